/* docs.c - what FastAPI adds to every app: /openapi.json (the API's
 * description) and the pages that show it, /docs (Swagger UI) and /redoc.
 *
 * The description is the one FastAPI 0.92 generates for the seed's app,
 * byte for byte (the same API has the same description). The two pages load
 * the same viewers from the same CDN as FastAPI's and point them at
 * /openapi.json; their markup is ours (FastAPI's templates are not copied
 * here), so their bytes differ from the original's. FastAPI's fourth route,
 * /docs/oauth2-redirect, is Swagger UI's OAuth2 helper: the API has no
 * OAuth2, and it is left out. Like FastAPI's, these routes answer GET and
 * HEAD (other methods fall through to the static mount's 405). */
#include "docs.h"

#include <string.h>

static const char OPENAPI[] =
    "{\"openapi\":\"3.0.2\",\"info\":{\"title\":\"FastAPI\",\"version\":\"0.1.0\"},"
    "\"paths\":{\"/id/{bug_id}\":{\"get\":{\"summary\":\"Search \","
    "\"operationId\":\"search__id__bug_id__get\",\"parameters\":[{\"required\":true,"
    "\"schema\":{\"title\":\"Bug Id\",\"type\":\"integer\"},\"name\":\"bug_id\",\"in\":\"path\"}],"
    "\"responses\":{\"200\":{\"description\":\"Successful Response\",\"content\":"
    "{\"application/json\":{\"schema\":{}}}},\"422\":{\"description\":\"Validation Error\","
    "\"content\":{\"application/json\":{\"schema\":{\"$ref\":"
    "\"#/components/schemas/HTTPValidationError\"}}}}}}}},\"components\":{\"schemas\":"
    "{\"HTTPValidationError\":{\"title\":\"HTTPValidationError\",\"type\":\"object\","
    "\"properties\":{\"detail\":{\"title\":\"Detail\",\"type\":\"array\",\"items\":"
    "{\"$ref\":\"#/components/schemas/ValidationError\"}}}},\"ValidationError\":"
    "{\"title\":\"ValidationError\",\"required\":[\"loc\",\"msg\",\"type\"],\"type\":\"object\","
    "\"properties\":{\"loc\":{\"title\":\"Location\",\"type\":\"array\",\"items\":{\"anyOf\":"
    "[{\"type\":\"string\"},{\"type\":\"integer\"}]}},\"msg\":{\"title\":\"Message\","
    "\"type\":\"string\"},\"type\":{\"title\":\"Error Type\",\"type\":\"string\"}}}}}}";

static const char SWAGGER[] =
    "<!doctype html>\n"
    "<html>\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<title>cio-bugtracker - Swagger UI</title>\n"
    "<link rel=\"stylesheet\" "
    "href=\"https://cdn.jsdelivr.net/npm/swagger-ui-dist@4/swagger-ui.css\">\n"
    "</head>\n"
    "<body>\n"
    "<div id=\"swagger-ui\"></div>\n"
    "<script "
    "src=\"https://cdn.jsdelivr.net/npm/swagger-ui-dist@4/swagger-ui-bundle.js\"></script>\n"
    "<script>\n"
    "SwaggerUIBundle({url: \"/openapi.json\", dom_id: \"#swagger-ui\", layout: \"BaseLayout\",\n"
    "                 deepLinking: true, showExtensions: true, showCommonExtensions: true,\n"
    "                 presets: [SwaggerUIBundle.presets.apis, "
    "SwaggerUIBundle.SwaggerUIStandalonePreset]});\n"
    "</script>\n"
    "</body>\n"
    "</html>\n";

static const char REDOC[] =
    "<!doctype html>\n"
    "<html>\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>cio-bugtracker - ReDoc</title>\n"
    "<style>body { margin: 0; padding: 0; }</style>\n"
    "</head>\n"
    "<body>\n"
    "<noscript>ReDoc needs JavaScript.</noscript>\n"
    "<redoc spec-url=\"/openapi.json\"></redoc>\n"
    "<script "
    "src=\"https://cdn.jsdelivr.net/npm/redoc@next/bundles/redoc.standalone.js\"></script>\n"
    "</body>\n"
    "</html>\n";

static int openapi(cio_http_req *req, cio_http_res *res, void *arg) {
  return cio_http_res_send(res, 200, "application/json", OPENAPI, sizeof OPENAPI - 1);
}

static int swagger(cio_http_req *req, cio_http_res *res, void *arg) {
  return cio_http_res_send(res, 200, "text/html; charset=utf-8", SWAGGER, sizeof SWAGGER - 1);
}

static int redoc(cio_http_req *req, cio_http_res *res, void *arg) {
  return cio_http_res_send(res, 200, "text/html; charset=utf-8", REDOC, sizeof REDOC - 1);
}

int bt_docs_routes(cio_http_app *app) {
  int r = cio_http_app_route(app, "GET,HEAD", "/openapi.json", openapi, NULL);
  if (r == 0) r = cio_http_app_route(app, "GET,HEAD", "/docs", swagger, NULL);
  if (r == 0) r = cio_http_app_route(app, "GET,HEAD", "/redoc", redoc, NULL);
  return r;
}
