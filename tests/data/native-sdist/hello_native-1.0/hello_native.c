#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *greet(PyObject *self, PyObject *args) {
    const char *name;
    if (!PyArg_ParseTuple(args, "s", &name)) return NULL;
    return PyUnicode_FromFormat("Hello, %s, from C!", name);
}

static PyMethodDef methods[] = {{"greet", greet, METH_VARARGS, "Greet someone."}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "hello_native", NULL, -1, methods};

PyMODINIT_FUNC PyInit_hello_native(void) { return PyModule_Create(&module); }
