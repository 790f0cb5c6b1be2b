/*
 * xtape._speedups: the one piece of a max-speed replay that Python cannot make cheap.
 *
 * pack_xadds(events, trim, keep_ids) -> bytes
 *
 * The RESP of one pipelined ``XADD stream [trim...] id|* f1 v1 f2 v2 ...`` per event,
 * all in one bytes object: exactly what hiredis.pack_command gives event by event
 * (tests/replay/test_speedups.py checks that, byte for byte), in one call for a whole batch.
 * hiredis spends about 70 ns per argument (an 8-field entry: 0.9 us), which caps a
 * replay at about 600,000 entries/s before anything else is done; this copies.
 *
 * ``events`` is a sequence of tuples ``(offset_ns, stream, flat, id)``
 * (xtape.timeline.Event), copied into a tuple first; ``flat`` an exact tuple or list of
 * exact bytes (copied too: no code of the caller's can run while it is read, so what is
 * measured is what is written); ``trim`` a tuple of bytes
 * put after the stream name (``MAXLEN ~ N`` or nothing). With ``keep_ids`` an event's
 * own id is used where it is not None, else ``*``. Anything else raises TypeError (the
 * caller falls back to hiredis), never writes a wrong byte.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

static Py_ssize_t digits(Py_ssize_t n)
{
    Py_ssize_t d = 1;
    while (n >= 10) {
        n /= 10;
        d++;
    }
    return d;
}

/* "$<len>\r\n<bytes>\r\n" */
static Py_ssize_t bulk_size(Py_ssize_t len) { return 1 + digits(len) + 2 + len + 2; }

static char *write_count(char *p, char kind, Py_ssize_t n)
{
    char buf[24];
    int k = 0;
    *p++ = kind;
    do {
        buf[k++] = (char)('0' + n % 10);
        n /= 10;
    } while (n > 0);
    while (k > 0)
        *p++ = buf[--k];
    *p++ = '\r';
    *p++ = '\n';
    return p;
}

static char *write_bulk(char *p, const char *data, Py_ssize_t len)
{
    p = write_count(p, '$', len);
    memcpy(p, data, (size_t)len);
    p += len;
    *p++ = '\r';
    *p++ = '\n';
    return p;
}

static int check_bytes(PyObject *o, const char *what)
{
    if (!PyBytes_CheckExact(o)) {
        PyErr_Format(PyExc_TypeError, "pack_xadds: %s is not bytes", what);
        return -1;
    }
    return 0;
}

/* The bytes one event takes (its fields already checked): ``*argc``, XADD, the stream,
 * the trim arguments, the id and the fields. */
static Py_ssize_t event_size(PyObject *stream, Py_ssize_t id_len, Py_ssize_t ntrim,
                             Py_ssize_t trim_size, Py_ssize_t fields_size, Py_ssize_t nf)
{
    Py_ssize_t argc = 3 + ntrim + nf;
    return 1 + digits(argc) + 2 + bulk_size(4) + bulk_size(PyBytes_GET_SIZE(stream)) + trim_size
           + bulk_size(id_len) + fields_size;
}

static PyObject *pack_xadds(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *events_arg, *trim;
    int keep_ids;
    if (!PyArg_ParseTuple(args, "OO!p", &events_arg, &PyTuple_Type, &trim, &keep_ids))
        return NULL;
    /* A private tuple of the events, and of each event's fields below: nothing a caller's
     * code does once they are taken (a __del__ run by the collector, another thread) can
     * change what is measured and then written. */
    PyObject *events = PySequence_Tuple(events_arg);
    if (events == NULL)
        return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(events);
    Py_ssize_t ntrim = PyTuple_GET_SIZE(trim);
    Py_ssize_t trim_size = 0;
    PyObject **flats = NULL;
    Py_ssize_t *sizes = NULL;
    PyObject *out = NULL;
    for (Py_ssize_t j = 0; j < ntrim; j++) {
        PyObject *t = PyTuple_GET_ITEM(trim, j);
        if (check_bytes(t, "a trim argument") < 0)
            goto done;
        trim_size += bulk_size(PyBytes_GET_SIZE(t));
    }
    flats = PyMem_Calloc((size_t)(n ? n : 1), sizeof(PyObject *));
    sizes = PyMem_Calloc((size_t)(n ? n : 1), sizeof(Py_ssize_t));
    if (flats == NULL || sizes == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t total = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *ev = PyTuple_GET_ITEM(events, i);
        if (!PyTuple_Check(ev) || PyTuple_GET_SIZE(ev) < 4) {
            PyErr_SetString(PyExc_TypeError, "pack_xadds: an event is not a 4-tuple");
            goto done;
        }
        PyObject *stream = PyTuple_GET_ITEM(ev, 1);
        PyObject *id = PyTuple_GET_ITEM(ev, 3);
        PyObject *given = PyTuple_GET_ITEM(ev, 2);
        if (check_bytes(stream, "a stream name") < 0)
            goto done;
        /* Only an exact list or tuple: anything else (a subclass, another sequence) could
         * run code while it is read; the caller packs those with hiredis. */
        if (PyTuple_CheckExact(given)) {
            Py_INCREF(given);
            flats[i] = given;
        } else if (PyList_CheckExact(given)) {
            flats[i] = PyList_AsTuple(given);
            if (flats[i] == NULL)
                goto done;
        } else {
            PyErr_SetString(PyExc_TypeError, "pack_xadds: fields are not a list or tuple");
            goto done;
        }
        Py_ssize_t nf = PyTuple_GET_SIZE(flats[i]);
        Py_ssize_t fields_size = 0;
        for (Py_ssize_t k = 0; k < nf; k++) {
            PyObject *f = PyTuple_GET_ITEM(flats[i], k);
            if (check_bytes(f, "a field") < 0)
                goto done;
            Py_ssize_t b = bulk_size(PyBytes_GET_SIZE(f));
            if (fields_size > PY_SSIZE_T_MAX - b) {
                PyErr_NoMemory();
                goto done;
            }
            fields_size += b;
        }
        Py_ssize_t id_len = 1;
        if (keep_ids && id != Py_None) {
            if (check_bytes(id, "an id") < 0)
                goto done;
            id_len = PyBytes_GET_SIZE(id);
        }
        if (fields_size > PY_SSIZE_T_MAX / 2) {
            PyErr_NoMemory();
            goto done;
        }
        Py_ssize_t size = event_size(stream, id_len, ntrim, trim_size, fields_size, nf);
        if (total > PY_SSIZE_T_MAX - size) {
            PyErr_NoMemory();
            goto done;
        }
        sizes[i] = size;
        total += size;
    }
    out = PyBytes_FromStringAndSize(NULL, total);
    if (out == NULL)
        goto done;
    char *p = PyBytes_AS_STRING(out);
    char *end = p + total;
    for (Py_ssize_t i = 0; i < n; i++) {
        /* Everything written is immutable and held since it was measured; the check
         * below is what keeps a mistake here from writing past the buffer. */
        char *start = p;
        if (end - p < sizes[i])
            goto mismatch;
        PyObject *ev = PyTuple_GET_ITEM(events, i);
        PyObject *stream = PyTuple_GET_ITEM(ev, 1);
        PyObject *id = PyTuple_GET_ITEM(ev, 3);
        PyObject *flat = flats[i];
        Py_ssize_t nf = PyTuple_GET_SIZE(flat);
        p = write_count(p, '*', 3 + ntrim + nf);
        p = write_bulk(p, "XADD", 4);
        p = write_bulk(p, PyBytes_AS_STRING(stream), PyBytes_GET_SIZE(stream));
        for (Py_ssize_t j = 0; j < ntrim; j++) {
            PyObject *t = PyTuple_GET_ITEM(trim, j);
            p = write_bulk(p, PyBytes_AS_STRING(t), PyBytes_GET_SIZE(t));
        }
        if (keep_ids && id != Py_None)
            p = write_bulk(p, PyBytes_AS_STRING(id), PyBytes_GET_SIZE(id));
        else
            p = write_bulk(p, "*", 1);
        for (Py_ssize_t k = 0; k < nf; k++) {
            PyObject *f = PyTuple_GET_ITEM(flat, k);
            p = write_bulk(p, PyBytes_AS_STRING(f), PyBytes_GET_SIZE(f));
        }
        if (p - start != sizes[i])
            goto mismatch;
    }
    if (p == end)
        goto done;
mismatch:
    Py_CLEAR(out);
    PyErr_SetString(PyExc_SystemError, "pack_xadds: size mismatch");
done:
    if (flats != NULL) {
        for (Py_ssize_t i = 0; i < n; i++)
            Py_XDECREF(flats[i]);
        PyMem_Free(flats);
    }
    PyMem_Free(sizes);
    Py_DECREF(events);
    return out;
}

static PyMethodDef methods[] = {
    {"pack_xadds", pack_xadds, METH_VARARGS,
     "pack_xadds(events, trim, keep_ids) -> bytes: the RESP of one XADD per event."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "xtape._speedups", "C helpers for xtape's hot paths.", -1, methods,
};

PyMODINIT_FUNC PyInit__speedups(void) { return PyModule_Create(&module); }
