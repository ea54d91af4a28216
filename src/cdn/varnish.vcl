vcl 4.1;
# Varnish in front of Copydesk: caches what the API marks cacheable, and drops responses by the
# purge keys the API sends with them (xkey, from varnish-modules) when the CDN purger tells it to.
# Written for Varnish 7.1 with varnish-modules 0.20 (Debian 12: `apt-get install varnish
# varnish-modules`; docker-compose.yml mounts this file). test/cdn-varnish.test.ts runs it.
#
# - Keyless GET and HEAD requests are cached; anything carrying a key (Authorization, the only
#   header the API reads keys from) and every other method goes straight to the API. Tracking
#   parameters (utm_*, fbclid, …) are removed first, so they never split the cache.
# - How long a response is kept is the API's Cache-Control (max-age, s-maxage,
#   stale-while-revalidate as grace); `private`, `no-store` and `no-cache` are never stored, and a
#   response without Cache-Control is not stored either: the API decides.
# - The API's Surrogate-Key header (or Cache-Tag, with PURGE_KEY_HEADER=cache-tag) becomes the
#   object's xkey, so `PURGE /` with `xkey-purge: article-<id> articles-list` drops exactly the
#   responses showing that article or those lists, and `xkey-purge: *` drops everything (a ban).
import std;
import xkey;

# The API. The tests write a copy of this file with their own host and port.
backend copydesk {
    .host = "app";
    .port = "3000";
    .connect_timeout = 5s;
    .first_byte_timeout = 30s;
    .between_bytes_timeout = 10s;
}

# Who may purge: this machine, and the private range Docker gives compose networks (where the API
# container lives). Add the addresses of API instances elsewhere here.
acl purgers {
    "127.0.0.0"/8;
    "::1";
    "172.16.0.0"/12;
}

sub vcl_recv {
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(403, "Forbidden"));
        }
        if (!req.http.xkey-purge) {
            return (synth(400, "PURGE needs an xkey-purge header: space-separated keys, or *"));
        }
        if (req.http.xkey-purge == "*") {
            # Every object in the cache; the ban lurker removes them as it passes.
            if (std.ban("obj.status != 0")) {
                return (synth(200, "Banned everything"));
            }
            return (synth(500, "Ban failed: " + std.ban_error()));
        }
        set req.http.xkey-purged = xkey.purge(req.http.xkey-purge);
        return (synth(200, "Purged " + req.http.xkey-purged));
    }
    if (req.url ~ "^/changes/stream") {
        # Live events: an endless response, handed through as it is (heartbeats keep it open, and
        # pipe has no between-bytes timeout to cut it).
        return (pipe);
    }
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    if (req.url ~ "^/changes") {
        # The change feed is read from a cursor, never stored.
        return (pass);
    }
    if (req.http.Authorization) {
        # A staff request: its answer may hold drafts and is never shared.
        return (pass);
    }
    # The API reads no cookies; a browser's cookies for the site would only split the cache.
    unset req.http.Cookie;
    # Nor tracking parameters (the list in src/plugins/http-cache.ts): one cached copy whatever
    # campaign a link came from. Each goes with its separator; what is left is tidied up.
    if (req.url ~ "[?&](utm_[a-z0-9_]+|fbclid|gclid|gbraid|wbraid|dclid|msclkid|mc_cid|mc_eid|_ga|_gl)(=|&|$)") {
        set req.url = regsuball(req.url, "([?&])(utm_[a-z0-9_]+|fbclid|gclid|gbraid|wbraid|dclid|msclkid|mc_cid|mc_eid|_ga|_gl)(=[^&]*)?(?=&|$)", "\1");
        set req.url = regsuball(req.url, "&&+", "&");
        set req.url = regsub(req.url, "\?&", "?");
        set req.url = regsub(req.url, "[?&]$", "");
    }
    return (hash);
}

sub vcl_backend_response {
    if (beresp.http.Surrogate-Key) {
        set beresp.http.xkey = beresp.http.Surrogate-Key;
    } elsif (beresp.http.Cache-Tag) {
        # Comma-separated; xkey splits on commas as well as spaces.
        set beresp.http.xkey = beresp.http.Cache-Tag;
    }
    if (!beresp.http.Cache-Control) {
        # Not marked cacheable by the API (errors, health): fetched anew each time for two minutes.
        set beresp.ttl = 120s;
        set beresp.uncacheable = true;
        return (deliver);
    }
    # Otherwise Varnish's built-in rules apply: Cache-Control sets ttl and grace, and private,
    # no-store, no-cache, Set-Cookie or Vary: * make the response uncacheable.
}

sub vcl_deliver {
    unset resp.http.xkey;
    if (obj.uncacheable) {
        set resp.http.X-Cache = "PASS";
    } elsif (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
}

sub vcl_synth {
    if (req.method == "PURGE") {
        set resp.http.Content-Type = "text/plain; charset=utf-8";
        set resp.body = resp.reason + {"
"};
        return (deliver);
    }
}
