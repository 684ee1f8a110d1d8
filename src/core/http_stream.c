/*
 * http_stream: a long-lived streaming GET (server-sent events) driven
 * without blocking, through a multi handle, so a caller can interleave it
 * with other work. The stream gets the client's settings (TLS, dial,
 * token) on its own easy handle: its own connection, so the client's
 * handle stays free for ordinary requests while the stream is open.
 */
#include "core/http.h"

#include <curl/curl.h>
#include <string.h>

#include "core/http_internal.h"

static size_t on_stream_body(char *data, size_t size, size_t n, void *userp)
{
    struct http_stream *s = userp;
    size_t len = size * n;
    if (!s->status) {
        long code = 0;
        curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
        s->status = code;
        memcpy(s->content_type, s->resp.content_type, sizeof(s->content_type));
    }
    return s->on_data(s->ud, data, len) ? 0 : len;
}

int http_stream_open(struct http_client *c, struct http_stream *s, const char *path,
                     const char *const *extra_headers, http_data_fn on_data, void *ud,
                     struct err *e)
{
    memset(s, 0, sizeof(*s));
    http_response_init(&s->resp, 1);
    s->on_data = on_data;
    s->ud = ud;
    err_clear(&s->err);
    CURL *h = curl_easy_init();
    CURLM *m = curl_multi_init();
    if (!h || !m) {
        if (h)
            curl_easy_cleanup(h);
        if (m)
            curl_multi_cleanup(m);
        return err_set(e, EXIT_UNAVAILABLE, "cannot initialise libcurl");
    }
    struct curl_slist *headers = NULL, *connect_to = NULL;
    http_apply_settings(c, h, &headers, &connect_to, extra_headers);
    struct buf url;
    buf_init(&url, 0);
    buf_addf(&url, "%s%s", c->base_url, path);
    curl_easy_setopt(h, CURLOPT_URL, url.data);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, s->errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_stream_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, http_on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &s->resp);
    s->headers = headers;
    s->connect_to = connect_to;
    s->easy = h;
    s->multi = m;
    http_trace_request(c, url.data);
    buf_release(&url);
    curl_multi_add_handle(m, h);
    return 0;
}

int http_stream_poll(struct http_stream *s, int timeout_ms)
{
    if (s->ended)
        return 1;
    int running = 0;
    curl_multi_perform(s->multi, &running);
    if (running)
        curl_multi_poll(s->multi, NULL, 0, timeout_ms, NULL);
    curl_multi_perform(s->multi, &running);
    int left;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(s->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        s->ended = 1;
        if (!s->status)
            curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &s->status);
        CURLcode rc = msg->data.result;
        if (rc != CURLE_OK && rc != CURLE_WRITE_ERROR)
            http_curl_error(rc, s->errbuf, "the event stream", &s->err);
        else
            err_set(&s->err, EXIT_UNAVAILABLE, "the stream ended (HTTP %ld)", s->status);
    }
    if (!running)
        s->ended = 1;
    return s->ended;
}

void http_stream_close(struct http_stream *s)
{
    if (s->multi) {
        curl_multi_remove_handle(s->multi, s->easy);
        curl_easy_cleanup(s->easy);
        curl_multi_cleanup(s->multi);
    }
    curl_slist_free_all(s->headers);
    curl_slist_free_all(s->connect_to);
    http_response_release(&s->resp);
    memset(s, 0, sizeof(*s));
}
