// OpenBLAS's CBLAS interface, plus the thread-control calls OpenBLAS adds to it.
#include <cblas.h>
