/*
 * xtape._speedups: the one piece of a max-speed replay that Python cannot make cheap.
 *
 * pack_xadds(events, trim, keep_ids) -> bytes
 *
 * The RESP of one pipelined ``XADD stream [trim...] id|* f1 v1 f2 v2 ...`` per event,
 * all in one bytes object: exactly what hiredis.pack_command gives event by event
 * (tests/test_speedups.py checks that, byte for byte), in one call for a whole batch.
 * hiredis spends about 70 ns per argument (an 8-field entry: 0.9 us), which caps a
 * replay at about 600,000 entries/s before anything else is done; this copies.
 *
 * ``events`` is a sequence of tuples ``(offset_ns, stream, flat, id)``
 * (xtape.timeline.Event); ``flat`` a tuple or list of bytes; ``trim`` a tuple of bytes
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

static PyObject *pack_xadds(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *events, *trim;
    int keep_ids;
    if (!PyArg_ParseTuple(args, "OO!p", &events, &PyTuple_Type, &trim, &keep_ids))
        return NULL;
    PyObject *seq = PySequence_Fast(events, "pack_xadds: events must be a sequence");
    if (seq == NULL)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    Py_ssize_t ntrim = PyTuple_GET_SIZE(trim);
    Py_ssize_t trim_size = 0;
    for (Py_ssize_t j = 0; j < ntrim; j++) {
        PyObject *t = PyTuple_GET_ITEM(trim, j);
        if (check_bytes(t, "a trim argument") < 0)
            goto fail;
        trim_size += bulk_size(PyBytes_GET_SIZE(t));
    }
    /* The flat fields of every event, held (PySequence_Fast) until they are written. */
    PyObject **flats = PyMem_Calloc((size_t)(n ? n : 1), sizeof(PyObject *));
    if (flats == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    Py_ssize_t total = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *ev = items[i];
        if (!PyTuple_Check(ev) || PyTuple_GET_SIZE(ev) < 4) {
            PyErr_SetString(PyExc_TypeError, "pack_xadds: an event is not a 4-tuple");
            goto fail_flats;
        }
        PyObject *stream = PyTuple_GET_ITEM(ev, 1);
        PyObject *id = PyTuple_GET_ITEM(ev, 3);
        if (check_bytes(stream, "a stream name") < 0)
            goto fail_flats;
        PyObject *flat = PySequence_Fast(PyTuple_GET_ITEM(ev, 2), "pack_xadds: fields must be a sequence");
        if (flat == NULL)
            goto fail_flats;
        flats[i] = flat;
        Py_ssize_t nf = PySequence_Fast_GET_SIZE(flat);
        PyObject **fields = PySequence_Fast_ITEMS(flat);
        Py_ssize_t size = 0;
        for (Py_ssize_t k = 0; k < nf; k++) {
            if (check_bytes(fields[k], "a field") < 0)
                goto fail_flats;
            size += bulk_size(PyBytes_GET_SIZE(fields[k]));
        }
        Py_ssize_t id_len = 1;
        if (keep_ids && id != Py_None) {
            if (check_bytes(id, "an id") < 0)
                goto fail_flats;
            id_len = PyBytes_GET_SIZE(id);
        }
        Py_ssize_t argc = 3 + ntrim + nf;
        size += 1 + digits(argc) + 2 + bulk_size(4) + bulk_size(PyBytes_GET_SIZE(stream)) + trim_size
                + bulk_size(id_len);
        if (total > PY_SSIZE_T_MAX - size) {
            PyErr_NoMemory();
            goto fail_flats;
        }
        total += size;
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, total);
    if (out == NULL)
        goto fail_flats;
    char *p = PyBytes_AS_STRING(out);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *ev = items[i];
        PyObject *stream = PyTuple_GET_ITEM(ev, 1);
        PyObject *id = PyTuple_GET_ITEM(ev, 3);
        PyObject *flat = flats[i];
        Py_ssize_t nf = PySequence_Fast_GET_SIZE(flat);
        PyObject **fields = PySequence_Fast_ITEMS(flat);
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
        for (Py_ssize_t k = 0; k < nf; k++)
            p = write_bulk(p, PyBytes_AS_STRING(fields[k]), PyBytes_GET_SIZE(fields[k]));
    }
    for (Py_ssize_t i = 0; i < n; i++)
        Py_DECREF(flats[i]);
    PyMem_Free(flats);
    Py_DECREF(seq);
    if (p != PyBytes_AS_STRING(out) + total) {
        Py_DECREF(out);
        PyErr_SetString(PyExc_SystemError, "pack_xadds: size mismatch");
        return NULL;
    }
    return out;

fail_flats:
    for (Py_ssize_t i = 0; i < n; i++)
        Py_XDECREF(flats[i]);
    PyMem_Free(flats);
fail:
    Py_DECREF(seq);
    return NULL;
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
