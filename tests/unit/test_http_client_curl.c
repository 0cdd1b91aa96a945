/* test_http_client_curl — test_http_client.c's tests with http:// sent
 * through libcurl (DVCBOT_HTTP_CLIENT=curl), the path https:// always takes. */
#define HTTP_STUB_CURL 1
#include "test_http_client.c"
