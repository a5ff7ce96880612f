# cython: language_level=3, binding=True, boundscheck=False, wraparound=False
"""The compiled hot path: :mod:`signal_panel._hotpath` written again in Cython, with C types.

``_hotpath.py`` is the reference: this module offers the same names with the same behaviour, and
the test suite runs against both (``make test`` runs it on this module, ``make test-pure`` on the
other). What differs is only how the work is done: C fields instead of attribute lookups, the C
clock ``time.perf_counter_ns()`` reads, C frame access for the call site, one pass over the
kwargs, and receivers called through vectorcall with the kwargs' names instead of a merged dict.
A change to one of the two modules is a change to both.
"""

import functools
from asyncio import _get_running_loop
from inspect import iscoroutinefunction

from cpython.contextvars cimport PyContextVar_Reset, PyContextVar_Set, get_value
from cpython.dict cimport PyDict_GetItem, PyDict_Next, PyDict_Size
from cpython.object cimport Py_TYPE, PyObject
from cpython.pythread cimport PyThread_get_thread_ident
from cpython.ref cimport Py_DECREF, Py_INCREF
from cpython.tuple cimport PyTuple_New, PyTuple_SET_ITEM
from django.dispatch import dispatcher

from signal_panel import _describe
from signal_panel._context import _in_atomic, _state, note_error

cdef extern from *:
    """
    #if PY_VERSION_HEX >= 0x030D0000
    static inline long long sp_now(void) { PyTime_t t; (void)PyTime_PerfCounterRaw(&t); return t; }
    #else
    static inline long long sp_now(void) { return (long long)_PyTime_GetPerfCounter(); }
    #endif
    #define sp_top_frame() ((PyObject *)PyEval_GetFrame())
    #define sp_frame_back(f) ((PyObject *)PyFrame_GetBack((PyFrameObject *)(f)))
    #define sp_frame_code(f) ((PyObject *)PyFrame_GetCode((PyFrameObject *)(f)))
    #define sp_frame_lasti(f) PyFrame_GetLasti((PyFrameObject *)(f))
    #define sp_code_filename(c) (((PyCodeObject *)(c))->co_filename)
    """
    long long sp_now() nogil
    PyObject* sp_top_frame()
    PyObject* sp_frame_back(object frame)
    object sp_frame_code(object frame)
    int sp_frame_lasti(object frame)
    PyObject* sp_code_filename(object code)
    object PyObject_Vectorcall(object callable, PyObject** args, size_t nargsf, PyObject* kwnames)

# Row layout: see signal_panel._context (the same numbers, as C constants; a test compares them).
cdef enum:
    _S_KEYS = 2
    _S_VALUES = 3
    _S_PARENT = 5
    _S_START = 9
    _S_DURATION = 10
    _C_START = 3
    _C_DURATION = 4
    _CURSOR_CALL = 0
    _CURSOR_OUTER = 1
    _CURSOR_OWNER = 2
    # Receivers are called through vectorcall when a send has at most this many kwargs.
    _MAX_VECTOR = 14

__all__ = ["Tape", "append_send", "cursor_for", "find_callsite", "make_send", "pack_kwargs",
           "record_blinker_send", "run_blinker_one", "run_sync_one", "shared_keys", "snapshot"]

#: The row layout this module was compiled with, for the test that compares it with _context's.
LAYOUT = {
    "S_KEYS": _S_KEYS,
    "S_VALUES": _S_VALUES,
    "S_PARENT": _S_PARENT,
    "S_START": _S_START,
    "S_DURATION": _S_DURATION,
    "C_START": _C_START,
    "C_DURATION": _C_DURATION,
    "CURSOR_CALL": _CURSOR_CALL,
    "CURSOR_OUTER": _CURSOR_OUTER,
    "CURSOR_OWNER": _CURSOR_OWNER,
}

cdef object _NO_RECEIVERS = dispatcher.NO_RECEIVERS
cdef object _MISSING = _describe._MISSING
cdef dict _library_files = _describe._library_files
cdef dict _take = _describe._take
cdef dict _by_function = _describe.by_function
cdef object _COPY = _describe._COPY
cdef Py_ssize_t _SNAPSHOT_LIMIT = _describe._SNAPSHOT_LIMIT
cdef object _TOOK_PK = _describe._TOOK_PK
cdef object _TOOK_COPY = _describe._TOOK_COPY
cdef object _TOOK_SUMMARY = _describe._TOOK_SUMMARY
cdef object _is_library_file = _describe.is_library_file
cdef object _how_to_take = _describe.how_to_take
cdef object _summarize = _describe.summarize
cdef object _describe_receiver = _describe.describe_receiver
cdef dict _model_labels = _describe._model_labels
cdef object _fast_sender_label = _describe.fast_sender_label
cdef object _state_var = _state
#: One tuple per set of kwarg names seen, shared by the rows of every send that used it.
cdef dict _key_tuples = {}
#: Per shared names tuple: ``("signal", "sender", *names)``, the kwnames of a receiver call.
cdef dict _call_names = {}
cdef Py_ssize_t _KEY_TUPLES_LIMIT = 4096


cdef class Tape:
    """See ``_hotpath.Tape``."""

    cdef public list _send_rows
    cdef public list _call_rows
    cdef public Py_ssize_t call_count
    cdef public Py_ssize_t dropped_calls
    cdef public long long started_ns
    cdef public Py_ssize_t _max_calls
    cdef public bint _callsites
    cdef public bint _ignoring

    def __init__(self):
        self._send_rows = []
        self._call_rows = []
        self._max_calls = 0


cdef tuple _shared(tuple keys):
    cdef PyObject* found = PyDict_GetItem(_key_tuples, keys)
    if found != NULL:
        return <tuple>found
    if len(_key_tuples) > _KEY_TUPLES_LIMIT:
        _key_tuples.clear()
        _call_names.clear()
    _key_tuples[keys] = keys
    return keys


def shared_keys(dict named):
    return _shared(tuple(named))


def pack_kwargs(dict named):
    if not named:
        return None, None
    return _shared(tuple(named)), tuple(named.values())


cdef object _walk(int* lasti):
    """find_callsite(): the code of the first frame outside the libraries, its offset in lasti."""
    cdef PyObject* top = sp_top_frame()
    cdef PyObject* back
    cdef PyObject* flag
    if top == NULL:
        return None
    frame = <object>top
    while True:
        code = sp_frame_code(frame)
        filename = <object>sp_code_filename(code)
        flag = PyDict_GetItem(_library_files, filename)
        if flag != NULL:
            library = <object>flag
        else:
            library = _is_library_file(filename)
        if not library:
            lasti[0] = sp_frame_lasti(frame)
            return code
        back = sp_frame_back(frame)
        if back == NULL:
            return None
        frame = <object>back
        Py_DECREF(<object>back)  # PyFrame_GetBack() returned a new reference


def find_callsite():
    """See ``_hotpath.find_callsite``."""
    cdef int lasti = 0
    code = _walk(&lasti)
    if code is None:
        return None
    return code, lasti


cdef object _take_one(object key, object value, object how):
    if how is _COPY:
        if len(value) <= _SNAPSHOT_LIMIT:
            return (key, _TOOK_COPY, type(value)(value))
        return (key, _TOOK_SUMMARY, _summarize(value, 200))
    return (key, _TOOK_PK, value.__dict__.get(how))


cdef inline object _take_value(object key, object value, object taken):
    """``taken`` with what snapshot() takes of one kwarg appended (as it was when nothing is)."""
    cdef PyObject* found = PyDict_GetItem(_take, <object>Py_TYPE(value))
    how = <object>found if found != NULL else _how_to_take(value)
    if how is None:
        return taken
    took = _take_one(key, value, how)
    return took if taken is None else taken + took


cdef inline object _label_of(Tape rec, object sender):
    """``_describe.fast_sender_label()``, with its cache of model labels read inline."""
    cdef PyObject* found = PyDict_GetItem(_model_labels, sender)  # NULL when unhashable too
    if found != NULL:
        return <object>found
    return _fast_sender_label(sender, (<object>rec).config.summary_length)


cdef inline object _info_of(object receiver):
    """``_describe.describe_receiver()``, with its cache for plain functions read inline."""
    cdef PyObject* entry = PyDict_GetItem(_by_function, id(receiver))
    if entry != NULL and (<tuple>entry)[0]() is receiver:
        return (<tuple>entry)[1]
    return _describe_receiver(receiver)


def snapshot(dict named):
    """See ``_hotpath.snapshot``."""
    cdef Py_ssize_t pos = 0
    cdef PyObject* key
    cdef PyObject* value
    taken = None
    while PyDict_Next(named, &pos, &key, &value):
        taken = _take_value(<object>key, <object>value, taken)
    return taken


cdef inline list _cursor_for(Tape rec, Py_ssize_t at, position):
    """See ``_hotpath.cursor_for``."""
    if _get_running_loop() is not None:
        return None
    if type(position) is list and (
        <unsigned long>(<list>position)[_CURSOR_OWNER] == PyThread_get_thread_ident()
    ):
        return <list>position
    return [None, rec._send_rows[at + _S_PARENT], PyThread_get_thread_ident()]


def cursor_for(Tape rec, Py_ssize_t send, position):
    """See ``_hotpath.cursor_for``."""
    return _cursor_for(rec, send, position)


def run_sync_one(signal, sender, dict named, list receivers, bint robust, Tape rec,
                 send, position, bint times_send):
    """See ``_hotpath.run_sync_one``."""
    cdef list rows = rec._call_rows
    cdef list send_rows = rec._send_rows
    cdef list cursor
    cdef list responses = []
    cdef long long origin = rec.started_ns
    cdef long long start, end, first
    cdef Py_ssize_t limit = rec._max_calls
    cdef Py_ssize_t call, count, index
    cdef PyObject* args[_MAX_VECTOR + 2]
    # ``send`` stays an object: every call's row holds that one int.
    cdef Py_ssize_t at = send
    cdef bint fresh = True
    # An object, not a C int: the first call's start is the send's start, one int for both.
    cdef object start_at
    cdef PyObject* entry_ptr
    token = None
    loop_token = None
    kwnames = None
    # The receivers' arguments, for vectorcall: (signal, sender, *values) named by kwnames. The
    # send's row holds the kwargs as Django's loop would pass them: shared names and the values.
    names = send_rows[at + _S_KEYS]
    values = send_rows[at + _S_VALUES]
    count = len(<tuple>names) if names is not None else 0
    if count <= _MAX_VECTOR:
        if names is None:
            names = ()
        entry_ptr = PyDict_GetItem(_call_names, names)
        if entry_ptr != NULL:
            kwnames = <object>entry_ptr
        else:
            if len(_call_names) > _KEY_TUPLES_LIMIT:
                _call_names.clear()
            kwnames = _call_names[names] = ("signal", "sender") + names
        args[0] = <PyObject*>signal
        args[1] = <PyObject*>sender
        for index in range(count):
            args[index + 2] = <PyObject*>(<tuple>values)[index]
    cursor = _cursor_for(rec, at, position)
    if cursor is not None and cursor is not position:
        loop_token = PyContextVar_Set(_state_var, ((rec, cursor),))
    found = cursor[_CURSOR_CALL] if cursor is not None else None
    start = first = sp_now()
    # The first call starts with the send: one int for both.
    start_at = first - origin
    if times_send:
        send_rows[at + _S_START] = start_at
    try:
        for receiver in receivers:
            rec.call_count += 1
            if rec.call_count > limit:
                rec.dropped_calls += 1
                if cursor is not None:
                    cursor[_CURSOR_CALL] = found
                responses.append((receiver, receiver(signal=signal, sender=sender, **named)))
                start = sp_now()
                fresh = False
                continue
            info = _info_of(receiver)
            if not fresh:
                start_at = start - origin
            fresh = False
            call = len(rows)
            rows.append(send)
            rows.append(info)
            rows.append(False)
            rows.append(start_at)
            rows.append(0)
            rows.append(None)
            rows.append(False)
            rows.append(None)
            if cursor is not None:
                cursor[_CURSOR_CALL] = call
            else:
                token = PyContextVar_Set(_state_var, ((rec, call),))
            try:
                if kwnames is not None:
                    response = PyObject_Vectorcall(receiver, args, 0, <PyObject*>kwnames)
                else:
                    response = receiver(signal=signal, sender=sender, **named)
            except BaseException as err:
                end = sp_now()
                if cursor is None:
                    PyContextVar_Reset(_state_var, token)
                rows[call + _C_DURATION] = end - start
                start = end
                swallowed = robust and isinstance(err, Exception)
                note_error(rec, call, err, swallowed)
                if not swallowed:
                    raise
                signal._log_robust_failure(receiver, err)
                responses.append((receiver, err))
                continue
            end = sp_now()
            if cursor is None:
                PyContextVar_Reset(_state_var, token)
            rows[call + _C_DURATION] = end - start
            start = end
            responses.append((receiver, response))
    finally:
        if times_send:
            send_rows[at + _S_DURATION] = start - first
        if cursor is not None:
            cursor[_CURSOR_CALL] = found
        if loop_token is not None:
            PyContextVar_Reset(_state_var, loop_token)
    return responses


cdef Py_ssize_t _append_send(Tape rec, signal, label, dict named, position, kind) except -1:
    """See ``_hotpath.append_send``."""
    cdef list rows
    cdef Py_ssize_t at, count, pos, index
    cdef int lasti = 0
    cdef PyObject* key
    cdef PyObject* value
    code = _walk(&lasti) if rec._callsites else None
    # recording.current(position), inline.
    if type(position) is list:
        parent = (<list>position)[_CURSOR_CALL]
        if parent is None:
            parent = (<list>position)[_CURSOR_OUTER]
    else:
        parent = position
    rows = rec._send_rows
    at = len(rows)
    rows.append(signal)
    rows.append(label)
    count = PyDict_Size(named)
    if count:
        keys = PyTuple_New(count)
        values = PyTuple_New(count)
        taken = None
        pos = 0
        index = 0
        while PyDict_Next(named, &pos, &key, &value):
            Py_INCREF(<object>key)
            PyTuple_SET_ITEM(keys, index, <object>key)
            Py_INCREF(<object>value)
            PyTuple_SET_ITEM(values, index, <object>value)
            index += 1
            taken = _take_value(<object>key, <object>value, taken)
        rows.append(_shared(keys))
        rows.append(values)
        rows.append(taken)
    else:
        rows.append(None)
        rows.append(None)
        rows.append(None)
    rows.append(parent)
    rows.append(kind)
    rows.append(code)
    rows.append(lasti)
    rows.append(0)  # start and duration: set by the receiver loop
    rows.append(0)
    rows.append(_in_atomic(named["using"]) if "using" in named else None)
    return at


def append_send(Tape rec, signal, label, dict named, position, kind):
    """See ``_hotpath.append_send``."""
    return _append_send(rec, signal, label, named, position, kind)


def record_blinker_send(signal, sender, async_wrapper, dict kwargs, tuple entry, kind):
    """See ``_hotpath.record_blinker_send``."""
    cdef Tape rec = <Tape?>entry[0]
    cdef Py_ssize_t at
    position = entry[1]
    if rec.call_count >= rec._max_calls or rec._ignoring:
        return None
    label = _label_of(rec, sender)
    if label is None:
        return None
    at = _append_send(rec, signal, label, kwargs, position, kind)
    rec._send_rows[at + _S_START] = sp_now() - rec.started_ns
    return run_blinker_one(signal, sender, async_wrapper, kwargs, rec, at, position)


def run_blinker_one(signal, sender, async_wrapper, dict kwargs, Tape rec, send, position):
    """See ``_hotpath.run_blinker_one``."""
    cdef list rows = rec._call_rows
    cdef list send_rows = rec._send_rows
    cdef list cursor
    cdef list results = []
    cdef long long origin = rec.started_ns
    cdef long long start, end
    cdef Py_ssize_t limit = rec._max_calls
    cdef Py_ssize_t call, count, index
    cdef Py_ssize_t at = send
    cdef PyObject* args[_MAX_VECTOR + 1]
    cdef PyObject* kwnames_ptr = NULL
    cdef bint stored, is_async
    token = None
    loop_token = None
    # The receivers' arguments, for vectorcall: (sender, *values) with the kwargs' shared names.
    names = send_rows[at + _S_KEYS]
    values = send_rows[at + _S_VALUES]
    count = len(<tuple>names) if names is not None else 0
    cdef bint vector = count <= _MAX_VECTOR
    if vector:
        args[0] = <PyObject*>sender
        for index in range(count):
            args[index + 1] = <PyObject*>(<tuple>values)[index]
        if count:
            kwnames_ptr = <PyObject*>names
    cursor = _cursor_for(rec, at, position)
    if cursor is not None and cursor is not position:
        loop_token = PyContextVar_Set(_state_var, ((rec, cursor),))
    found = cursor[_CURSOR_CALL] if cursor is not None else None
    try:
        for receiver in signal.receivers_for(sender):
            is_async = iscoroutinefunction(receiver)
            rec.call_count += 1
            stored = rec.call_count <= limit
            if not stored:
                rec.dropped_calls += 1
                call = -1
            else:
                info = _info_of(receiver)
                call = len(rows)
                rows.append(send)
                rows.append(info)
                rows.append(is_async)
                rows.append(0)
                rows.append(0)
                rows.append(None)
                rows.append(False)
                rows.append(None)
            if cursor is not None:
                cursor[_CURSOR_CALL] = call if stored else found
            else:
                token = PyContextVar_Set(_state_var, ((rec, call if stored else None),))
            start = sp_now()
            try:
                if is_async:
                    if async_wrapper is None:
                        raise RuntimeError("Cannot send to a coroutine function.")
                    result = async_wrapper(receiver)(sender, **kwargs)
                elif vector:
                    result = PyObject_Vectorcall(receiver, args, 1, kwnames_ptr)
                else:
                    result = receiver(sender, **kwargs)
            except BaseException as err:
                end = sp_now()
                if cursor is None:
                    PyContextVar_Reset(_state_var, token)
                if stored:
                    rows[call + _C_START] = start - origin
                    rows[call + _C_DURATION] = end - start
                    note_error(rec, call, err, False)
                raise
            end = sp_now()
            if cursor is None:
                PyContextVar_Reset(_state_var, token)
            if stored:
                rows[call + _C_START] = start - origin
                rows[call + _C_DURATION] = end - start
            results.append((receiver, result))
        return results
    finally:
        if cursor is not None:
            cursor[_CURSOR_CALL] = found
        if loop_token is not None:
            PyContextVar_Reset(_state_var, loop_token)
        send_rows[at + _S_DURATION] = sp_now() - origin - send_rows[at + _S_START]


def make_send(bint robust, django_method, dict baseline, send_general, async_from_sync,
              tuple kind):
    """See ``_hotpath.make_send``."""
    name = "send_robust" if robust else "send"

    @functools.wraps(django_method)
    def send(self, sender, **named):
        cdef tuple state = <tuple>get_value(_state_var)
        cdef Py_ssize_t active = len(state)
        cdef Tape rec
        cdef list rows
        cdef Py_ssize_t at
        if active != 1:
            if active == 0:
                return baseline[name](self, sender, **named)
            return send_general(self, sender, named, robust, state)
        pair = <tuple>state[0]
        rec = <Tape>pair[0]
        position = pair[1]
        if rec.call_count >= rec._max_calls or rec._ignoring or "signal" in named:
            # A ``signal`` kwarg makes Django's receiver call fail: let Django's loop say how.
            return send_general(self, sender, named, robust, state)
        label = _label_of(rec, sender)
        if label is None:  # the toolbar's own models
            return baseline[name](self, sender, **named)
        at = _append_send(rec, self, label, named, position, kind)
        rows = rec._send_rows
        if not self.receivers or self.sender_receivers_cache.get(sender) is _NO_RECEIVERS:
            rows[at + _S_START] = sp_now() - rec.started_ns
            return []
        sync_receivers, async_receivers = self._live_receivers(sender)
        responses = run_sync_one(
            self, sender, named, sync_receivers, robust, rec, at, position, True
        )
        if async_receivers:
            try:
                responses.extend(
                    async_from_sync(self, sender, named, async_receivers, robust, state, [at])
                )
            finally:
                rows[at + _S_DURATION] = sp_now() - rec.started_ns - rows[at + _S_START]
        return responses

    return send
