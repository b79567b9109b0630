/*
 * The lifecycle shared by TunDevice and IcmpSocket; see poll_object.h.
 *
 * Lifetimes, in short: the state is owned by the napi_wrap finalizer; the uv_poll_t is its own
 * allocation, because uv_close() only finishes on a later loop turn (maybe after the finalizer
 * has freed the state), so its close callback frees just the handle and never looks at the state.
 */
#include "poll_object.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errors.h"

static void poll_pause(bh_poll_object *o);

/* ---- teardown ----------------------------------------------------------------------------- */

static void free_poll_handle(uv_handle_t *handle) { free(handle); }

/* Stops polling and closes the fd. Makes no N-API calls, so it is safe in the cleanup hook. */
static void shutdown_object(bh_poll_object *o) {
  if (o->poll != NULL) {
    /* libuv: the fd may be closed right after uv_close(); the handle memory lives until the
     * close callback, which no longer looks at the state. */
    o->poll->data = NULL;
    uv_close((uv_handle_t *)o->poll, free_poll_handle);
    o->poll = NULL;
    o->polling = 0;
  }
  if (o->fd >= 0) {
    close(o->fd);
    o->fd = -1;
  }
  /* A lent arena is the memory of a Buffer: freed by the GC once arena_ref is deleted (by the
   * caller that may make N-API calls) and JavaScript holds no view of it. */
  if (!o->cls->lend_arena) free(o->arena);
  o->arena = NULL;
}

static void delete_ref(napi_env env, napi_ref *ref) {
  if (*ref != NULL) {
    napi_delete_reference(env, *ref);
    *ref = NULL;
  }
}

static void close_from_js(bh_poll_object *o) {
  shutdown_object(o);
  delete_ref(o->env, &o->arena_ref);
  delete_ref(o->env, &o->on_batch);
  delete_ref(o->env, &o->on_error);
  if (o->async_ctx != NULL) {
    napi_async_destroy(o->env, o->async_ctx);
    o->async_ctx = NULL;
  }
  if (o->self != NULL) {
    uint32_t count = 1;
    while (count > 0 && napi_reference_unref(o->env, o->self, &count) == napi_ok) {
    }
  }
}

/* Worker or Electron teardown: the loop must be able to close, so release the fd and the poll.
 * The finalizer still runs later and frees the rest. */
static void cleanup_hook(void *arg) {
  bh_poll_object *o = arg;
  o->cleanup_hook = 0;
  shutdown_object(o);
}

void bh_poll_finalize(bh_poll_object *o, napi_env env) {
  if (o->cleanup_hook) napi_remove_env_cleanup_hook(env, cleanup_hook, o);
  shutdown_object(o);
  delete_ref(env, &o->on_batch);
  delete_ref(env, &o->on_error);
  delete_ref(env, &o->lengths_ref);
  delete_ref(env, &o->arena_ref);
  delete_ref(env, &o->self);
  if (o->async_ctx != NULL) {
    napi_async_destroy(env, o->async_ctx);
    o->async_ctx = NULL;
  }
}

/* ---- setup -------------------------------------------------------------------------------- */

napi_value bh_poll_construct_this(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv,
                                  const char *no_new) {
  napi_value self, target;
  BH_CALL(env, napi_get_new_target(env, info, &target));
  if (target == NULL) {
    napi_throw_type_error(env, "ERR_CONSTRUCT_CALL_REQUIRED", no_new);
    return NULL;
  }
  BH_CALL(env, napi_get_cb_info(env, info, argc, argv, &self, NULL));
  return self;
}

/* Makes the lengths array; a previous one (detached by JavaScript) is let go. */
static napi_status create_lengths(bh_poll_object *o) {
  napi_env env = o->env;
  delete_ref(env, &o->lengths_ref);
  o->lengths = NULL;
  napi_value buffer, lengths;
  void *data = NULL;
  napi_status st = napi_create_arraybuffer(env, o->cls->batch * sizeof(uint32_t), &data, &buffer);
  if (st != napi_ok) return st;
  st = napi_create_typedarray(env, napi_uint32_array, o->cls->batch, buffer, 0, &lengths);
  if (st != napi_ok) return st;
  st = napi_create_reference(env, lengths, 1, &o->lengths_ref);
  if (st == napi_ok) o->lengths = data;
  return st;
}

/* A lending class's arena: a Buffer, held by arena_ref; a previous one is let go. Returns the
 * N-API call that failed, or NULL. */
static const char *create_arena_buffer(bh_poll_object *o) {
  napi_env env = o->env;
  void *data = NULL;
  napi_value buffer;
  delete_ref(env, &o->arena_ref);
  o->arena = NULL;
  /* V8's array buffers do not move: read() may fill this memory for as long as arena_ref holds it
   * and JavaScript has not detached it (see hold_lent_memory). */
  if (napi_create_buffer(env, o->cls->arena_bytes, &data, &buffer) != napi_ok) return "napi_create_buffer";
  if (napi_create_reference(env, buffer, 1, &o->arena_ref) != napi_ok) return "napi_create_reference";
  o->arena = data;
  return NULL;
}

/* Gives the arena back: a lent one to the GC (once JavaScript holds no view of it). */
static void release_arena(bh_poll_object *o) {
  if (o->cls->lend_arena) {
    delete_ref(o->env, &o->arena_ref);
  } else {
    free(o->arena);
  }
  o->arena = NULL;
}

void *bh_poll_adopt(napi_env env, napi_value self, const bh_poll_class *cls, int fd, size_t state_size,
                    napi_finalize finalize) {
  /* The state's first member is its bh_poll_object: one pointer is both. */
  bh_poll_object *o = calloc(1, state_size);
  if (o == NULL) {
    close(fd);
    char what[96];
    snprintf(what, sizeof what, "no memory for the %s", cls->noun);
    bh_throw_errno(env, ENOMEM, "calloc", what, NULL);
    return NULL;
  }
  o->cls = cls;
  o->env = env;
  o->fd = fd;
  if (napi_wrap(env, self, o, finalize, NULL, &o->self) != napi_ok) {
    close(fd);
    free(o);
    bh_throw_napi_failure(env, "napi_wrap");
    return NULL;
  }
  /* From here on the finalizer owns the state; the hook is optional (it only speeds teardown). */
  if (napi_add_env_cleanup_hook(env, cleanup_hook, o) == napi_ok) o->cleanup_hook = 1;
  BH_CALL(env, create_lengths(o));
  return o;
}

void *bh_poll_unwrap(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  napi_value self;
  void *cls = NULL, *state = NULL;
  if (napi_get_cb_info(env, info, argc, argv, &self, &cls) != napi_ok || cls == NULL) return NULL;
  if (napi_unwrap(env, self, &state) != napi_ok || state == NULL) {
    napi_throw_type_error(env, "ERR_INVALID_THIS", ((const bh_poll_class *)cls)->not_this);
    return NULL;
  }
  return state;
}

/* ---- calling back into JavaScript --------------------------------------------------------- */

/* Calls `ref` with argv; an exception thrown by it becomes an uncaught exception. */
static void call_js(bh_poll_object *o, napi_ref ref, size_t argc, napi_value *argv) {
  napi_env env = o->env;
  napi_value fn, recv, result;
  if (ref == NULL || napi_get_reference_value(env, ref, &fn) != napi_ok || fn == NULL) return;
  if (napi_get_reference_value(env, o->self, &recv) != napi_ok || recv == NULL) {
    napi_get_undefined(env, &recv);
  }
  if (napi_make_callback(env, o->async_ctx, recv, fn, argc, argv, &result) != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value exception;
      napi_get_and_clear_last_exception(env, &exception);
      napi_fatal_exception(env, exception);
    }
  }
}

/* A read error ends reading: stop the poll and tell JavaScript through onError. */
static void report_read_error(bh_poll_object *o, int err) {
  o->read_errors++;
  poll_pause(o);
  const bh_poll_class *cls = o->cls;
  napi_value error = bh_errno_error(o->env, err, cls->read_syscall, cls->read_failed, cls->read_hint);
  if (error != NULL) call_js(o, o->on_error, 1, &error);
}

/* The memory we lend JavaScript (the lengths array; a lending class's arena) is an ArrayBuffer it
 * can detach: ArrayBuffer.prototype.transfer(), a transfer list of postMessage or structuredClone,
 * a byte stream's enqueue. The memory then belongs to someone else or is freed, and a read() into
 * our raw pointer would be a use-after-free. So before each drain, check that the object we lend
 * still has our memory at its full length (a detached one has none), and make a new one if not.
 * Fills lent[0] with the arena Buffer (lending classes) and lent[1] with the lengths array; returns
 * 0, or ENOMEM when a new one cannot be made (reading must then stop). */
static int hold_lent_memory(bh_poll_object *o, napi_value lent[2]) {
  napi_env env = o->env;
  void *data = NULL;
  size_t length = 0;
  napi_typedarray_type type;
  lent[0] = NULL;
  lent[1] = NULL;
  if (o->lengths_ref == NULL || napi_get_reference_value(env, o->lengths_ref, &lent[1]) != napi_ok ||
      lent[1] == NULL || napi_get_typedarray_info(env, lent[1], &type, &length, &data, NULL, NULL) != napi_ok ||
      data != (void *)o->lengths || length != o->cls->batch) {
    if (create_lengths(o) != napi_ok || napi_get_reference_value(env, o->lengths_ref, &lent[1]) != napi_ok ||
        lent[1] == NULL) {
      return ENOMEM;
    }
  }
  if (!o->cls->lend_arena) return 0;
  data = NULL;
  length = 0;
  if (o->arena_ref == NULL || napi_get_reference_value(env, o->arena_ref, &lent[0]) != napi_ok ||
      lent[0] == NULL || napi_get_buffer_info(env, lent[0], &data, &length) != napi_ok ||
      data != (void *)o->arena || length != o->cls->arena_bytes) {
    if (create_arena_buffer(o) != NULL || napi_get_reference_value(env, o->arena_ref, &lent[0]) != napi_ok ||
        lent[0] == NULL) {
      return ENOMEM;
    }
  }
  return 0;
}

static void deliver_batch(bh_poll_object *o, napi_value lent[2], size_t used, uint32_t count) {
  napi_env env = o->env;
  napi_value argv[3] = {lent[0], lent[1], NULL};
  if (!o->cls->lend_arena) {
    void *copy = NULL;
    if (napi_create_buffer_copy(env, used, o->arena, &copy, &argv[0]) != napi_ok) return;
  }
  if (napi_create_uint32(env, count, &argv[2]) != napi_ok) return;
  call_js(o, o->on_batch, 3, argv);
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  bh_poll_object *o = handle->data;
  if (o == NULL || o->fd < 0) return;
  /* The scope also keeps `this` (the receiver in call_js) alive while the callbacks run, so a
   * close() from onBatch cannot let GC free `o` under us. */
  napi_handle_scope scope;
  if (napi_open_handle_scope(o->env, &scope) != napi_ok) return;
  if (status < 0) {
    report_read_error(o, -status);
  } else {
    napi_value lent[2];
    size_t used = 0;
    uint32_t count = 0;
    /* Never read into memory we no longer hold. */
    int err = hold_lent_memory(o, lent);
    if (err == 0) count = o->cls->drain(o, &used, &err);
    if (count > 0) deliver_batch(o, lent, used, count);
    /* The batch callback may have closed the object. */
    if (err != 0 && o->fd >= 0) report_read_error(o, err);
  }
  napi_close_handle_scope(o->env, scope);
}

/* ---- start / pause / resume --------------------------------------------------------------- */

static int poll_resume(bh_poll_object *o) {
  if (o->poll == NULL || o->polling || o->fd < 0) return 0;
  int rc = uv_poll_start(o->poll, UV_READABLE, on_readable);
  if (rc == 0) o->polling = 1;
  return rc;
}

static void poll_pause(bh_poll_object *o) {
  if (o->poll != NULL && o->polling) {
    uv_poll_stop(o->poll);
    o->polling = 0;
  }
}

static napi_value start_object(bh_poll_object *o, size_t argc, napi_value *argv) {
  napi_env env = o->env;
  const bh_poll_class *cls = o->cls;
  char what[96];
  napi_valuetype t0 = napi_undefined, t1 = napi_undefined;
  if (argc >= 1) napi_typeof(env, argv[0], &t0);
  if (argc >= 2) napi_typeof(env, argv[1], &t1);
  if (t0 != napi_function || t1 != napi_function) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "start(onBatch, onError) needs two functions");
    return NULL;
  }
  if (o->fd < 0) {
    snprintf(what, sizeof what, "the %s is closed", cls->noun);
    bh_throw_errno(env, EBADF, "start", what, NULL);
    return NULL;
  }
  if (o->poll != NULL) {
    snprintf(what, sizeof what, "the %s is already started", cls->noun);
    napi_throw_error(env, cls->started_code, what);
    return NULL;
  }

  if (cls->lend_arena) {
    const char *failed = create_arena_buffer(o);
    if (failed != NULL) {
      bh_throw_errno(env, ENOMEM, failed, cls->no_memory, NULL);
      return NULL;
    }
  } else {
    o->arena = malloc(cls->arena_bytes);
  }
  o->poll = malloc(sizeof *o->poll);
  if (o->arena == NULL || o->poll == NULL) {
    release_arena(o);
    free(o->poll);
    o->poll = NULL;
    bh_throw_errno(env, ENOMEM, "malloc", cls->no_memory, NULL);
    return NULL;
  }
  snprintf(what, sizeof what, "cannot watch the %s", cls->noun);
  uv_loop_t *loop = NULL;
  BH_CALL(env, napi_get_uv_event_loop(env, &loop));
  int rc = uv_poll_init(loop, o->poll, o->fd);
  if (rc != 0) {
    /* Nothing started: a later start() makes its own arena. */
    release_arena(o);
    free(o->poll);
    o->poll = NULL;
    bh_throw_errno(env, -rc, "uv_poll_init", what, NULL);
    return NULL;
  }
  o->poll->data = o;

  napi_value resource_name;
  BH_CALL(env, napi_create_string_utf8(env, cls->resource_name, NAPI_AUTO_LENGTH, &resource_name));
  BH_CALL(env, napi_async_init(env, NULL, resource_name, &o->async_ctx));
  BH_CALL(env, napi_create_reference(env, argv[0], 1, &o->on_batch));
  BH_CALL(env, napi_create_reference(env, argv[1], 1, &o->on_error));
  uint32_t refs = 0;
  BH_CALL(env, napi_reference_ref(env, o->self, &refs));

  if (!o->paused) {
    rc = poll_resume(o);
    if (rc != 0) bh_throw_errno(env, -rc, "uv_poll_start", what, NULL);
  }
  return NULL;
}

static napi_status set_counter(napi_env env, napi_value obj, const char *key, uint64_t value) {
  napi_value v;
  napi_status st = napi_create_double(env, (double)value, &v);
  if (st != napi_ok) return st;
  return napi_set_named_property(env, obj, key, v);
}

static napi_value stats_object(bh_poll_object *o) {
  napi_env env = o->env;
  napi_value obj;
  BH_CALL(env, napi_create_object(env, &obj));
  BH_CALL(env, set_counter(env, obj, "packetsIn", o->packets_in));
  BH_CALL(env, set_counter(env, obj, "bytesIn", o->bytes_in));
  BH_CALL(env, set_counter(env, obj, "packetsOut", o->packets_out));
  BH_CALL(env, set_counter(env, obj, "bytesOut", o->bytes_out));
  BH_CALL(env, set_counter(env, obj, o->cls->send_failures_key, o->send_failures));
  BH_CALL(env, set_counter(env, obj, "readErrors", o->read_errors));
  return obj;
}

/* ---- the methods every poll object has ---------------------------------------------------- */

napi_value bh_poll_js_start(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  bh_poll_object *o = bh_poll_unwrap(env, info, &argc, argv);
  if (o == NULL) return NULL;
  return start_object(o, argc, argv);
}

napi_value bh_poll_js_pause(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  bh_poll_object *o = bh_poll_unwrap(env, info, &argc, NULL);
  if (o == NULL) return NULL;
  o->paused = 1;
  poll_pause(o);
  return NULL;
}

napi_value bh_poll_js_resume(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  bh_poll_object *o = bh_poll_unwrap(env, info, &argc, NULL);
  if (o == NULL) return NULL;
  o->paused = 0;
  int rc = poll_resume(o);
  if (rc != 0) {
    char what[96];
    snprintf(what, sizeof what, "cannot resume reading the %s", o->cls->noun);
    bh_throw_errno(env, -rc, "uv_poll_start", what, NULL);
  }
  return NULL;
}

napi_value bh_poll_js_stats(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  bh_poll_object *o = bh_poll_unwrap(env, info, &argc, NULL);
  if (o == NULL) return NULL;
  return stats_object(o);
}

napi_value bh_poll_js_close(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  bh_poll_object *o = bh_poll_unwrap(env, info, &argc, NULL);
  if (o == NULL) return NULL;
  close_from_js(o);
  if (o->cls->on_close != NULL) o->cls->on_close(o);
  return NULL;
}

/* ---- the class ---------------------------------------------------------------------------- */

#define MAX_METHODS 8

napi_status bh_poll_define_class(napi_env env, napi_value exports, const bh_poll_class *cls, napi_callback construct,
                                 size_t method_count, const napi_property_descriptor *methods) {
  const char *name = cls->name;
  if (method_count >= MAX_METHODS) return napi_invalid_arg;
  napi_property_descriptor props[MAX_METHODS];
  memcpy(props, methods, method_count * sizeof *methods);
  napi_value max_batch;
  napi_status st = napi_create_uint32(env, cls->batch, &max_batch);
  if (st != napi_ok) return st;
  props[method_count] = (napi_property_descriptor){"maxBatch", NULL, NULL, NULL, NULL, max_batch,
                                                   napi_static | napi_enumerable, NULL};
  napi_value js_class;
  st = napi_define_class(env, name, NAPI_AUTO_LENGTH, construct, NULL, method_count + 1, props, &js_class);
  if (st != napi_ok) return st;
  return napi_set_named_property(env, exports, name, js_class);
}
