/*
 * The lifecycle shared by the addon's event-driven objects (TunDevice, IcmpSocket): a JavaScript
 * object wrapping a non-blocking fd that libuv polls, delivering what it reads in batches to
 * onBatch(data, lengths, count) and a fatal read error to onError(error).
 *
 * Each object's state embeds a bh_poll_object and describes itself with a static bh_poll_class;
 * only how a wakeup drains the fd (and everything about writing) stays in the object's own file.
 */
#ifndef BACKHAUL_POLL_OBJECT_H
#define BACKHAUL_POLL_OBJECT_H

#include <node_api.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* The state that embeds `member`, from a pointer to it. */
#define BH_CONTAINER_OF(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

typedef struct bh_poll_object bh_poll_object;

typedef struct bh_poll_class {
  const char *resource_name; /* async resource name seen by async_hooks: "BackhaulTunDevice" */
  const char *noun;          /* in error messages: "the TUN device is closed" */
  const char *started_code;  /* error code of a second start(): "ERR_TUN_STARTED" */
  const char *no_memory;     /* start() could not allocate the arena */
  /* A read error ends reading; these describe it to JavaScript. */
  const char *read_syscall, *read_failed, *read_hint;
  size_t arena_bytes;        /* allocated on start() */
  uint32_t batch;            /* at most this many entries per onBatch (the lengths array's size) */
  /* Drains the readable fd into o->arena and o->lengths: returns the entry count, sets *used to
   * the arena bytes used and *err to an errno that ends reading (0 for EAGAIN and the like). */
  uint32_t (*drain)(bh_poll_object *o, size_t *used, int *err);
} bh_poll_class;

struct bh_poll_object {
  const bh_poll_class *cls;
  napi_env env;
  int fd;                       /* -1 once closed */
  uv_poll_t *poll;              /* own allocation: freed by uv's close callback, maybe after us */
  int polling;                  /* uv_poll_start is active */
  napi_ref self;                /* 0 = weak; 1 while started, so GC can't close a live object */
  napi_ref on_batch;
  napi_ref on_error;
  napi_ref lengths_ref;         /* the reused Uint32Array(cls->batch) */
  uint32_t *lengths;            /* its memory (V8 array buffers do not move) */
  napi_async_context async_ctx; /* so callbacks run as proper async callbacks (nextTick, hooks) */
  int cleanup_hook;             /* registered env cleanup hook */
  uint8_t *arena;               /* cls->arena_bytes, allocated on start() */
  uint64_t read_errors;
};

/* Sets up `o` (inside a zeroed state) to own `fd`. */
void bh_poll_init(bh_poll_object *o, const bh_poll_class *cls, napi_env env, int fd);

/* napi_wrap(self, state) with `finalize`, then the env cleanup hook. On success the finalizer owns
 * the state (which `finalize` frees after bh_poll_finalize); on failure the caller still owns the
 * fd and the state. */
napi_status bh_poll_wrap(bh_poll_object *o, napi_value self, void *state, napi_finalize finalize);

/* Creates the reused lengths array (cls->batch entries). */
napi_status bh_poll_create_lengths(bh_poll_object *o);

/* The napi_unwrap'ed state behind `this`, or NULL with a TypeError (`not_this`) thrown. */
void *bh_poll_unwrap(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv,
                     const char *not_this);

/* start(onBatch, onError): checks the arguments, allocates, holds the object strongly, and
 * starts polling unless `poll_now` is 0 (paused). Returns NULL, maybe with an exception. */
napi_value bh_poll_start(bh_poll_object *o, size_t argc, napi_value *argv, int poll_now);

/* Starts / stops the uv_poll after start(); both are no-ops when already so. Returns a uv error. */
int bh_poll_resume(bh_poll_object *o);
void bh_poll_pause(bh_poll_object *o);

/* close() from JavaScript: shut down, drop the callbacks and the strong self reference. */
void bh_poll_close_from_js(bh_poll_object *o);

/* Everything the napi_finalize of the embedding state must do before freeing it. */
void bh_poll_finalize(bh_poll_object *o, napi_env env);

/* Sets obj[key] = value (a counter for stats()). */
napi_status bh_poll_set_counter(napi_env env, napi_value obj, const char *key, uint64_t value);

#endif
