// libpng's simplified API (png_image_*), used to write and read 8-bit RGB/RGBA images.
#include <png.h>
#include <stdio.h>

/// PNG_IMAGE_SIZE is a macro; Swift cannot call it.
static inline size_t cpng_image_size(const png_image *image) { return PNG_IMAGE_SIZE(*image); }
/// True when libpng reported an error (PNG_IMAGE_FAILED is a macro).
static inline int cpng_image_failed(const png_image *image) { return PNG_IMAGE_FAILED(*image); }
/// The version constant the simplified API wants in `png_image.version`.
static inline unsigned cpng_image_version(void) { return PNG_IMAGE_VERSION; }
