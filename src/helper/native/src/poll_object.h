/*
 * The lifecycle shared by the addon's event-driven objects (TunDevice, IcmpSocket): a JavaScript
 * object wrapping a non-blocking fd that libuv polls, delivering what it reads in batches to
 * onBatch(data, lengths, count) and a fatal read error to onError(error).
 *
 * Each object's state embeds a bh_poll_object as its FIRST member (so the wrapped pointer is both)
 * and describes itself with a static bh_poll_class; only how a wakeup drains the fd, how the object
 * opens, and everything about writing stay in the object's own file.
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
  const char *name;          /* the JavaScript class: "TunDevice" */
  const char *not_this;      /* TypeError of a method called on anything else: "not a TunDevice" */
  const char *resource_name; /* async resource name seen by async_hooks: "BackhaulTunDevice" */
  const char *noun;          /* in error messages: "the TUN device is closed" */
  const char *started_code;  /* error code of a second start(): "ERR_TUN_STARTED" */
  const char *no_memory;     /* start() could not allocate the arena */
  /* A read error ends reading; these describe it to JavaScript. */
  const char *read_syscall, *read_failed, *read_hint;
  size_t arena_bytes;        /* allocated on start() */
  /* 0: each onBatch gets a fresh Buffer, a copy of what the wakeup read (the consumer may keep
   * it). 1: the arena itself is a Buffer made once, and onBatch gets that same Buffer each time,
   * lent for the call: no copy and no allocation per wakeup (the TUN device's bulk path). If
   * JavaScript detaches it, the next wakeup makes a new one. */
  int lend_arena;
  uint32_t batch;            /* at most this many entries per onBatch (the lengths array's size) */
  /* Drains the readable fd into o->arena and o->lengths: returns the entry count, sets *used to
   * the arena bytes used and *err to an errno that ends reading (0 for EAGAIN and the like). */
  uint32_t (*drain)(bh_poll_object *o, size_t *used, int *err);
  const char *send_failures_key; /* stats() name of o->send_failures: "writeDrops" */
  void (*on_close)(bh_poll_object *o); /* what else close() releases, or NULL */
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
  uint32_t *lengths;            /* its memory (V8 array buffers do not move, but JavaScript can
                                 * detach them: checked before every drain) */
  napi_async_context async_ctx; /* so callbacks run as proper async callbacks (nextTick, hooks) */
  int cleanup_hook;             /* registered env cleanup hook */
  uint8_t *arena;               /* cls->arena_bytes, allocated on start() */
  napi_ref arena_ref;           /* lend_arena: the Buffer whose memory `arena` is (checked before
                                 * every drain, like `lengths`) */
  /* For stats(): what drain() delivered and what the object's own file sent. */
  uint64_t packets_in, bytes_in, packets_out, bytes_out, read_errors;
  uint64_t send_failures;       /* packets the object's own file could not send */
  int paused;                   /* pause() was called: start() and resume() leave polling off */
};

/* The constructor's `this`, or NULL with a TypeError thrown when called without new (`no_new`
 * says so). Fills argv like napi_get_cb_info. */
napi_value bh_poll_construct_this(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv,
                                  const char *no_new);

/* Allocates a zeroed state of `state_size` bytes whose first member is the bh_poll_object, gives
 * it `fd`, wraps it in `self` with `finalize` (which frees it after bh_poll_finalize) and creates
 * the lengths array. Returns the state, owned by the finalizer from then on; or NULL with an
 * exception thrown, and `fd` closed when the state never came to own it. */
void *bh_poll_adopt(napi_env env, napi_value self, const bh_poll_class *cls, int fd, size_t state_size,
                    napi_finalize finalize);

/* A method of the class `cls` describes; the class is the callback's data (see bh_poll_unwrap). */
#define BH_POLL_METHOD(name, callback, cls) {(name), NULL, (callback), NULL, NULL, NULL, napi_default, (void *)(cls)}

/* The state behind a BH_POLL_METHOD's `this`, or NULL with a TypeError (cls->not_this) thrown. */
void *bh_poll_unwrap(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv);

/* The methods every poll object has, for BH_POLL_METHOD:
 *   start(onBatch, onError)  checks the arguments, allocates, holds the object strongly, and
 *                            starts polling unless paused;
 *   pause() / resume()       stop / restart polling;
 *   stats()                  { packetsIn, bytesIn, packetsOut, bytesOut, <send_failures_key>, readErrors };
 *   close()                  shuts down, drops the callbacks and the strong self reference, then
 *                            cls->on_close. */
napi_value bh_poll_js_start(napi_env env, napi_callback_info info);
napi_value bh_poll_js_pause(napi_env env, napi_callback_info info);
napi_value bh_poll_js_resume(napi_env env, napi_callback_info info);
napi_value bh_poll_js_stats(napi_env env, napi_callback_info info);
napi_value bh_poll_js_close(napi_env env, napi_callback_info info);

/* Everything the napi_finalize of the embedding state must do before freeing it. */
void bh_poll_finalize(bh_poll_object *o, napi_env env);

/* Defines cls->name with `methods` and a static maxBatch (cls->batch) and sets exports[name]. */
napi_status bh_poll_define_class(napi_env env, napi_value exports, const bh_poll_class *cls, napi_callback construct,
                                 size_t method_count, const napi_property_descriptor *methods);

#endif
