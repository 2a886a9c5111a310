/* metrics.h — the engine's counters and histograms (engine files only;
 * faces ask for the text through engine_metrics in engine_api.h).
 *
 * Everything is observed on the loop thread: the store thread's commit
 * time travels back in its batch and is observed when the batch's dones
 * run (storeq_on_commit).  The state is made at the first observation
 * and freed by engine_close (metrics_free). */
#ifndef JOBD_METRICS_H
#define JOBD_METRICS_H
#include <stdint.h>

struct engine;
struct arun;

/* Distinct (job, target) pairs counted by name; runs of further pairs
 * count under job="(other)" (100,000 jobs must not make 100,000 series
 * per result).  Targets' duration histograms: the same, beyond
 * METRICS_MAX_TARGETS. */
#define METRICS_MAX_SERIES 2000
#define METRICS_MAX_TARGETS 200
#define METRICS_JOB_OTHER "(other)"
#define METRICS_JOB_SUBMIT "(submit)"

/* a's process was spawned (or its built-in run went) */
void metrics_run_started(struct engine *e, const struct arun *a);
/* a ended: ok or fail (also a run that could not start), or cancelled
 * (ignored before it ran);
 * ran: it had a process (or was built in), so its duration counts */
void metrics_run_finished(struct engine *e, const struct arun *a, int ran);
/* a scheduled fire woke late_us after its due instant */
void metrics_lateness(struct engine *e, int64_t late_us);
/* a store batch committed in `seconds` (storeq_on_commit's callback) */
void metrics_commit(void *engine, double seconds);
void metrics_free(struct engine *e);
#endif
