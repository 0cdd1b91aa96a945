/* test_http_keepalive_curl — test_http_keepalive.c's tests with http://
 * sent through libcurl (DVCBOT_HTTP_CLIENT=curl). */
#define HTTP_STUB_CURL 1
#include "test_http_keepalive.c"
