/* json.h — runs as JSON objects, one spelling for every face
 * (docs/protocol.md "Objects"). */
#ifndef JOBD_FACES_JSON_H
#define JOBD_FACES_JSON_H

#include <jansson.h>

#include "engine/engine_api.h"

struct jw;
void run_write_json(struct jw *w, const struct run *r, int with_output);
json_t *run_to_json(const struct run *r, int with_output);
json_t *arun_to_json(const struct arun *a, int with_output);
#endif
