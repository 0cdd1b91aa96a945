/* Metrics: Prometheus text format and quantiles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dvcbot/metrics.h"

#include <stdio.h>
#include <string.h>

static void counters_and_histograms_render_in_prometheus_format(void **state)
{
    (void)state;
    static const double b[] = {0.01, 0.1, 1};
    metrics_declare("t_requests_total", METRIC_COUNTER, "Requests.", NULL, 0);
    metrics_declare("t_seconds", METRIC_HISTOGRAM, "Latency.", b, 3);
    metrics_inc("t_requests_total", "route=\"x\",code=\"200\"", 2);
    metrics_inc("t_requests_total", "route=\"x\",code=\"200\"", 1);
    metrics_observe("t_seconds", "", 0.05);
    metrics_observe("t_seconds", "", 5);
    struct buf out;
    buf_init(&out);
    metrics_render(&out);
    const char *s = buf_cstr(&out);
    assert_non_null(strstr(s, "# TYPE t_requests_total counter\n"));
    assert_non_null(strstr(s, "t_requests_total{route=\"x\",code=\"200\"} 3\n"));
    assert_non_null(strstr(s, "t_seconds_bucket{le=\"0.01\"} 0\n"));
    assert_non_null(strstr(s, "t_seconds_bucket{le=\"0.1\"} 1\n"));
    assert_non_null(strstr(s, "t_seconds_bucket{le=\"+Inf\"} 2\n"));
    assert_non_null(strstr(s, "t_seconds_count 2\n"));
    assert_true(metrics_get("t_requests_total", "route=\"x\",code=\"200\"") == 3);
    buf_free(&out);
    metrics_free();
}

static void quantile_interpolates_within_buckets(void **state)
{
    (void)state;
    static const double b[] = {60, 120, 300};
    metrics_declare("t_flow_seconds", METRIC_HISTOGRAM, "Flow time.", b, 3);
    for (int i = 0; i < 10; i++)
        metrics_observe("t_flow_seconds", "procedure=\"khai_sinh\"", i < 5 ? 30 : 100);
    double median = metrics_quantile("t_flow_seconds", "procedure=\"khai_sinh\"", 0.5);
    assert_true(median > 0 && median <= 60);
    double p90 = metrics_quantile("t_flow_seconds", "procedure=\"khai_sinh\"", 0.9);
    assert_true(p90 > 60 && p90 <= 120);
    assert_true(metrics_quantile("t_flow_seconds", "procedure=\"x\"", 0.5) < 0);
    metrics_free();
}

/* Series whose name + labels read the same joined (the split moves), differ
 * in one byte, or in length only, stay apart through the table's growth. */
static void series_stay_apart_through_growth(void **state)
{
    (void)state;
    char name[64], labels[64];
    for (int i = 0; i < 600; i++) {
        snprintf(name, sizeof name, "t_m%d_xxxxxxxx", i % 7);
        snprintf(labels, sizeof labels, "k=\"%d\"%.*s", i, i % 9, "aaaaaaaaa");
        metrics_inc(name, labels, i + 1);
    }
    metrics_inc("t_ab", "c", 1);
    metrics_inc("t_a", "bc", 2);
    metrics_inc("t_abc", "", 4);
    metrics_inc("t_abc", NULL, 8);
    for (int i = 0; i < 600; i++) {
        snprintf(name, sizeof name, "t_m%d_xxxxxxxx", i % 7);
        snprintf(labels, sizeof labels, "k=\"%d\"%.*s", i, i % 9, "aaaaaaaaa");
        assert_true(metrics_get(name, labels) == i + 1);
    }
    assert_true(metrics_get("t_ab", "c") == 1);
    assert_true(metrics_get("t_a", "bc") == 2);
    assert_true(metrics_get("t_abc", "") == 12);
    assert_true(metrics_get("t_abc", "x") == 0);
    metrics_free();
}

/* A histogram series observed before its metric is declared gets its buckets
 * counted once the declaration comes. */
static void observations_count_buckets_once_declared(void **state)
{
    (void)state;
    static const double b[] = {1, 10};
    metrics_observe("t_late_seconds", "", 5);
    metrics_declare("t_late_seconds", METRIC_HISTOGRAM, "Late.", b, 2);
    metrics_observe("t_late_seconds", "", 5);
    metrics_observe("t_late_seconds", "", 0.5);
    struct buf out;
    buf_init(&out);
    metrics_render(&out);
    const char *s = buf_cstr(&out);
    assert_non_null(strstr(s, "t_late_seconds_bucket{le=\"1\"} 1\n"));
    assert_non_null(strstr(s, "t_late_seconds_bucket{le=\"10\"} 2\n"));
    assert_non_null(strstr(s, "t_late_seconds_count 3\n"));
    buf_free(&out);
    metrics_free();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counters_and_histograms_render_in_prometheus_format),
        cmocka_unit_test(quantile_interpolates_within_buckets),
        cmocka_unit_test(series_stay_apart_through_growth),
        cmocka_unit_test(observations_count_buckets_once_declared),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
