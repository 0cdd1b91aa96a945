/* metrics — process counters, gauges and histograms, rendered in the
 * Prometheus text format for GET /metrics.
 *
 * One registry per process (dvcbot is single-threaded: everything runs on the
 * loop). A series is a metric name plus a label string written the Prometheus
 * way without braces, e.g. `route="telegram",code="200"`; label values must
 * come from a small fixed set (routes, channels, intent ids), never from user
 * input. Series are created on first use. metrics_free releases everything. */
#ifndef DVCBOT_METRICS_H
#define DVCBOT_METRICS_H

#include "dvcbot/buf.h"

#include <stddef.h>

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

/* Declares a metric (HELP/TYPE lines). Histograms take ascending bucket upper
 * bounds (copied; at most 16). Declaring twice keeps the first. */
void metrics_declare(const char *name, enum metric_type type, const char *help,
                     const double *buckets, size_t n_buckets);

void metrics_inc(const char *name, const char *labels, double by);
void metrics_set(const char *name, const char *labels, double value);
void metrics_observe(const char *name, const char *labels, double value);

/* Current value of a counter/gauge series (histograms: the count); 0 if absent. */
double metrics_get(const char *name, const char *labels);
/* Histogram quantile estimate (linear within a bucket); -1 when empty. */
double metrics_quantile(const char *name, const char *labels, double q);

void metrics_render(struct buf *out);
void metrics_free(void);

#endif
