#ifndef JOBD_HTTP_ASSETS_H
#define JOBD_HTTP_ASSETS_H
/* The dashboard's files (www/), built into the binary by
 * scripts/embed_assets.py (a meson custom_target): jobd serves them
 * without reading or fetching anything at run time. */
#include <stddef.h>

struct http_asset {
	const char *path;           /* "/app.js" */
	const unsigned char *data;
	size_t len;
	const char *type;           /* the Content-Type */
	const char *etag;           /* "\"hash\"": a hash of the bytes */
};

/* The asset served at path ("/" is "/index.html"), or NULL. */
const struct http_asset *http_asset_lookup(const char *path);
/* The same as the http face's static-file hook (http_static_fn in
 * faces/http.h): 0 with the bytes, length and type, or -ENOENT. */
int http_assets_static(const char *path, const void **data, size_t *len,
                       const char **ctype);

#endif
