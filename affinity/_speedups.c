/*
 * Optional C versions of the two polynomial hashes in ids.py.
 *
 * string_hash(str)   Java String.hashCode(): h = 31*h + c over the UTF-16 code
 *                    units (a character outside the BMP is a surrogate pair),
 *                    int32 arithmetic.
 * bytes_hash(buffer) Java Arrays.hashCode(byte[]): h = 31*h + b from h = 1,
 *                    bytes read as signed.
 *
 * ids.py falls back to its pure-Python code when this module did not build.
 * Unsigned 32-bit arithmetic wraps exactly as Java's int does. The loops take
 * four units per step (h*31^4 + a*31^3 + b*31^2 + c*31 + d), which shortens
 * the chain of dependent multiplications by four.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#define P1 31u
#define P2 961u    /* 31^2 */
#define P3 29791u  /* 31^3 */
#define P4 923521u /* 31^4 */

#define POLYNOMIAL(NAME, UNIT, CONVERT)                                          \
    static uint32_t NAME(const UNIT *data, Py_ssize_t n, uint32_t h)             \
    {                                                                            \
        Py_ssize_t i = 0;                                                        \
        for (; i + 4 <= n; i += 4) {                                             \
            h = h * P4 + (uint32_t)CONVERT(data[i]) * P3                         \
                + (uint32_t)CONVERT(data[i + 1]) * P2                            \
                + (uint32_t)CONVERT(data[i + 2]) * P1                            \
                + (uint32_t)CONVERT(data[i + 3]);                                \
        }                                                                        \
        for (; i < n; i++) {                                                     \
            h = h * P1 + (uint32_t)CONVERT(data[i]);                             \
        }                                                                        \
        return h;                                                                \
    }

#define AS_IS(x) (x)
#define SIGNED_BYTE(x) ((int8_t)(x))

POLYNOMIAL(hash_ucs1, Py_UCS1, AS_IS)
POLYNOMIAL(hash_ucs2, Py_UCS2, AS_IS)
POLYNOMIAL(hash_signed_bytes, unsigned char, SIGNED_BYTE)

/* 31^k mod 2^32, k = 0..8: the weight of a character followed by k UTF-16 units. */
static const uint32_t POWERS[9] = {
    1u, 31u, 961u, 29791u, 923521u, 28629151u, 887503681u, 1742810335u, 2487512833u,
};

/* A code point above the BMP is two UTF-16 units, high and low surrogate, and adds
 * high*31 + low, which for v = c - 0x10000 is 0xD800*31 + 0xDC00 + v - 993*(v >> 10)
 * (high = 0xD800 + (v >> 10), low = 0xDC00 + v - 1024*(v >> 10)). Without a branch, so
 * that mixed text costs no mispredictions. */
static inline uint32_t
ucs4_term(Py_UCS4 c, uint32_t *width)
{
    uint32_t astral = c >= 0x10000;
    uint32_t v = c - 0x10000;
    *width = 1 + astral;
    return astral ? 0xD800u * P1 + 0xDC00u + v - 993u * (v >> 10) : c;
}

static uint32_t
hash_ucs4(const Py_UCS4 *data, Py_ssize_t n)
{
    uint32_t h = 0, w0, w1, w2, w3;
    Py_ssize_t i = 0;
    for (; i + 4 <= n; i += 4) {
        if ((data[i] | data[i + 1] | data[i + 2] | data[i + 3]) < 0x10000) {
            h = h * P4 + data[i] * P3 + data[i + 1] * P2 + data[i + 2] * P1 + data[i + 3];
            continue;
        }
        uint32_t a0 = ucs4_term(data[i], &w0);
        uint32_t a1 = ucs4_term(data[i + 1], &w1);
        uint32_t a2 = ucs4_term(data[i + 2], &w2);
        uint32_t a3 = ucs4_term(data[i + 3], &w3);
        h = h * POWERS[w0 + w1 + w2 + w3] + a0 * POWERS[w1 + w2 + w3] + a1 * POWERS[w2 + w3]
            + a2 * POWERS[w3] + a3;
    }
    for (; i < n; i++) {
        uint32_t a = ucs4_term(data[i], &w0);
        h = h * POWERS[w0] + a;
    }
    return h;
}

static PyObject *
string_hash(PyObject *module, PyObject *text)
{
    if (!PyUnicode_Check(text)) {
        PyErr_Format(PyExc_TypeError, "string_hash() needs a str, got %.100s",
                     Py_TYPE(text)->tp_name);
        return NULL;
    }
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(text) < 0) {
        return NULL;
    }
#endif
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    const void *data = PyUnicode_DATA(text);
    uint32_t h;
    switch (PyUnicode_KIND(text)) {
    case PyUnicode_1BYTE_KIND:
        h = hash_ucs1((const Py_UCS1 *)data, n, 0);
        break;
    case PyUnicode_2BYTE_KIND:
        h = hash_ucs2((const Py_UCS2 *)data, n, 0);
        break;
    default:
        h = hash_ucs4((const Py_UCS4 *)data, n);
        break;
    }
    return PyLong_FromLong((long)(int32_t)h);
}

static PyObject *
bytes_hash(PyObject *module, PyObject *data)
{
    Py_buffer view;
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    uint32_t h = hash_signed_bytes((const unsigned char *)view.buf, view.len, 1u);
    PyBuffer_Release(&view);
    return PyLong_FromLong((long)(int32_t)h);
}

static PyMethodDef methods[] = {
    {"string_hash", string_hash, METH_O,
     "Java String.hashCode(): 31-polynomial over UTF-16 code units, int32."},
    {"bytes_hash", bytes_hash, METH_O,
     "Java Arrays.hashCode(byte[]) of a bytes-like object (signed bytes), int32."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#if PY_VERSION_HEX >= 0x030D0000
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "ignite_router.affinity._speedups",
    .m_doc = "C versions of Java's String.hashCode and Arrays.hashCode(byte[]).",
    .m_size = 0,
    .m_methods = methods,
    .m_slots = slots,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModuleDef_Init(&module);
}
