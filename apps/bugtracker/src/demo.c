/* demo.c - the generated demo dataset. */
#include "demo.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char CAUSE_KEY[] = "问题原因分析";
static const char FIX_KEY[] = "修改方案描述";

static const char *const COMP_ZH[] = {"登录模块", "订单服务", "支付网关", "报表导出",
                                      "用户中心", "消息推送", "搜索服务", "文件上传",
                                      "权限管理", "数据同步", "缓存层",   "定时任务"};
static const char *const SYMPTOM_ZH[] = {
    "偶发崩溃",     "界面卡死",     "接口响应超时", "数据显示错乱",   "内存持续增长",
    "页面一片空白", "订单重复提交", "中文显示乱码", "修改后无法保存", "越权访问他人数据"};
static const char *const CAUSE_ZH[] = {
    "未对空指针做判断",           "连接池耗尽后连接没有归还",      "缓存过期时间被写死为零",
    "并发更新同一行时缺少行锁",   "时区换算时遗漏了夏令时",        "表的字符集配置为 latin1",
    "重试逻辑没有幂等保护",       "分页参数没有做上限校验",        "定时任务在重启后重复注册",
    "文件句柄在异常路径上未关闭", "日志级别误设为 DEBUG 拖慢磁盘", "前端未转义用户输入"};
static const char *const FIX_ZH[] = {"增加判空并补充单元测试",
                                     "在 finally 中归还连接",
                                     "过期时间改为可配置，默认 300 秒",
                                     "更新前使用 SELECT ... FOR UPDATE",
                                     "统一以 UTC 存储并在展示时换算",
                                     "表和连接统一改为 utf8mb4",
                                     "为请求增加幂等键",
                                     "分页大小限制为 100",
                                     "注册前先检查任务是否已存在",
                                     "使用 with 语句确保关闭文件",
                                     "生产环境日志级别改为 INFO",
                                     "输出前统一做 HTML 转义"};
static const char *const COMP_EN[] = {"login",         "checkout",     "payment gateway",
                                      "report export", "user profile", "push notifications",
                                      "search",        "file upload",  "permissions"};
static const char *const SYMPTOM_EN[] = {"crashes on startup",     "hangs after an hour",
                                         "times out under load",   "shows another user's data",
                                         "leaks memory",           "renders a blank page",
                                         "submits the form twice", "garbles non-ASCII text"};
static const char *const CAUSE_EN[] = {"a null pointer is dereferenced when the session expired",
                                       "connections are not returned to the pool on error",
                                       "the cache key ignores the tenant id",
                                       "two workers update the same row without a lock",
                                       "the retry loop is not idempotent",
                                       "the parser assumes Latin-1 input"};
static const char *const FIX_EN[] = {"check the session before use",
                                     "return connections in a finally block",
                                     "add the tenant id to the cache key",
                                     "lock the row with SELECT ... FOR UPDATE",
                                     "add an idempotency key",
                                     "decode input as UTF-8"};
static const char *const NOTE_ZH[] = {"已复现，正在分析。",   "测试环境无法复现，请提供日志。",
                                      "已分配给后端组。",     "补丁已合入 dev 分支，待验证。",
                                      "验证通过，可以关闭。", "客户再次反馈，重新打开。"};
static const char *const NOTE_EN[] = {"Reproduced on staging.",
                                      "Cannot reproduce; please attach logs.",
                                      "Assigned to the backend team.",
                                      "Patch merged into dev, waiting for QA.",
                                      "Verified, closing.",
                                      "Reopened after a customer report."};
static const char *const TERM[] = {"。", "。", "。", "。", "。", "。", "。", "\n", "\n", "*"};

/* ---- a deterministic generator (splitmix64) ---- */

typedef struct rng {
  uint64_t s;
} rng;

static uint64_t next(rng *g) {
  uint64_t z = (g->s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
static unsigned below(rng *g, unsigned n) { return (unsigned)(next(g) % n); }
#define PICK(g, a) ((a)[below((g), (unsigned)N(a))])

/* ---- text building ---- */

typedef struct sbuf {
  char *p;
  size_t len, cap;
  int err;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n) {
  if (b->err) return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 256;
    while (cap < b->len + n + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
      b->err = -ENOMEM;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}
static void sb_puts(sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }
static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...) {
  char tmp[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n > 0) sb_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}
static void sb_reset(sbuf *b) {
  b->len = 0;
  if (b->p) b->p[0] = '\0';
}

/* "问题原因分析：<cause><term>" with a full-width colon most of the time. */
static void keyed(sbuf *b, rng *g, const char *key, const char *what) {
  sb_puts(b, key);
  sb_puts(b, below(g, 5) ? "：" : ":");
  if (!below(g, 8)) sb_puts(b, below(g, 2) ? " " : "\n");
  sb_puts(b, what);
  sb_puts(b, PICK(g, TERM));
}

/* ---- the rows ---- */

typedef struct gen {
  bt_load *l;
  rng g;
  int64_t note_id, rev_id;
  sbuf a, b;
} gen;

static cio_sql_value text(const sbuf *b) { return cio_sql_textn(b->p ? b->p : "", b->len); }

static int add_bug(gen *x, int64_t id, const char *summary, const char *version) {
  static const char *const cols[] = {"id", "summary", "version"};
  cio_sql_value v[] = {cio_sql_int(id), cio_sql_text(summary), cio_sql_text(version)};
  return bt_load_row(x->l, BT_T_BUG, cols, 3, v);
}

static int add_text(gen *x, int64_t id, cio_sql_value steps, cio_sql_value addl) {
  static const char *const cols[] = {"id", "steps_to_reproduce", "additional_information"};
  cio_sql_value v[] = {cio_sql_int(id), steps, addl};
  return bt_load_row(x->l, BT_T_TEXT, cols, 3, v);
}

static int add_note(gen *x, int64_t bug, int64_t date, cio_sql_value note) {
  static const char *const cols[] = {"id", "bug_id", "bugnote_text_id", "date_submitted"};
  static const char *const tcols[] = {"id", "note"};
  int64_t id = ++x->note_id;
  cio_sql_value v[] = {cio_sql_int(id), cio_sql_int(bug), cio_sql_int(id), cio_sql_int(date)};
  cio_sql_value t[] = {cio_sql_int(id), note};
  int r = bt_load_row(x->l, BT_T_NOTE, cols, 4, v);
  return r ? r : bt_load_row(x->l, BT_T_NOTETEXT, tcols, 2, t);
}

static int add_rev(gen *x, int64_t bug, cio_sql_value value) {
  static const char *const cols[] = {"id", "bug_id", "value"};
  cio_sql_value v[] = {cio_sql_int(++x->rev_id), cio_sql_int(bug), value};
  return bt_load_row(x->l, BT_T_REVISION, cols, 3, v);
}

static int taken(const int64_t *dates, unsigned n, int64_t d) {
  for (unsigned i = 0; i < n; i++)
    if (dates[i] == d) return 1;
  return 0;
}

/* Notes of bug id: n of them, the one at `at` (if >= 0) being b's text.
 * Dates mostly increase; 5% go back (a note entered late with its original
 * date). No two notes of a bug share a date: on MariaDB the seed's order
 * for those depends on the whole table, and the service then runs the
 * seed's query for the bug (query.h) - the edge-case fixture has such
 * notes; a demo dataset full of them would measure that fallback. */
static int notes(gen *x, int64_t id, int zh, unsigned n, int at, const sbuf *b) {
  int64_t prev = 1600000000 + id * 3600, used[64];
  for (unsigned k = 0; k < n; k++) {
    int64_t d =
        below(&x->g, 20) == 0 ? prev - 1 - below(&x->g, 500) : prev + 60 + below(&x->g, 900);
    while (taken(used, k < 64 ? k : 64, d)) d++;
    if (k < 64) used[k] = d;
    prev = d;
    cio_sql_value v =
        (int)k == at ? text(b) : cio_sql_text(zh ? PICK(&x->g, NOTE_ZH) : PICK(&x->g, NOTE_EN));
    int r = add_note(x, id, d, v);
    if (r) return r;
  }
  return 0;
}

static int revisions(gen *x, int64_t id, unsigned n, int at, const sbuf *b, const char *plain) {
  for (unsigned k = 0; k < n; k++) {
    int r = add_rev(x, id, (int)k == at ? text(b) : cio_sql_text(plain));
    if (r) return r;
  }
  return 0;
}

/* Bug 77: more notes than group_concat_max_len holds, the cause in the
 * last one (cut off), another in the revisions. */
static int long_bug(gen *x, int64_t id) {
  int r = add_bug(x, id, "[报表导出] 备注超长的缺陷", "2.0.0");
  if (!r) r = add_text(x, id, cio_sql_text("1. 导出十万行\n2. 查看备注"), cio_sql_text(""));
  sbuf *b = &x->b;
  for (int k = 0; k < 140 && !r; k++) {
    sb_reset(b);
    for (int i = 0; i < 400; i++) sb_puts(b, "导出日志很长。");
    r = add_note(x, id, 1600000000 + k, text(b));
  }
  sb_reset(b);
  sb_printf(b, "%s：被截断的原因。%s：被截断的方案。", CAUSE_KEY, FIX_KEY);
  if (!r) r = add_note(x, id, 1700000000, text(b));
  sb_reset(b);
  sb_printf(b, "%s：导出时逐行拼接字符串。%s：改用流式写出。", CAUSE_KEY, FIX_KEY);
  if (!r) r = add_rev(x, id, text(b));
  return r;
}

static int one_bug(gen *x, int64_t id) {
  rng *g = &x->g;
  int zh = below(g, 10) < 7;
  sbuf *a = &x->a, *b = &x->b;
  char summary[256], version[32], steps[512];
  unsigned c = below(g, N(CAUSE_ZH)), f = c % N(FIX_ZH);
  const char *cause = zh ? CAUSE_ZH[c] : CAUSE_EN[c % N(CAUSE_EN)];
  const char *fix = zh ? FIX_ZH[f] : FIX_EN[c % N(FIX_EN)];
  if (zh) {
    snprintf(summary, sizeof summary, "[%s] %s", PICK(g, COMP_ZH), PICK(g, SYMPTOM_ZH));
    snprintf(steps, sizeof steps, "1. 登录测试账号\n2. 打开%s\n3. 连续操作 %u 次", PICK(g, COMP_ZH),
             2 + below(g, 20));
  } else {
    snprintf(summary, sizeof summary, "The %s %s", PICK(g, COMP_EN), PICK(g, SYMPTOM_EN));
    snprintf(steps, sizeof steps, "1. Sign in\n2. Open %s\n3. Repeat %u times", PICK(g, COMP_EN),
             2 + below(g, 20));
  }
  snprintf(version, sizeof version, "%u.%u.%u", 1 + below(g, 3), below(g, 10), below(g, 20));
  int r = add_bug(x, id, summary, version);
  if (r) return r;

  unsigned kind = below(g, 100), nn = below(g, 5), nr = below(g, 3);
  sb_reset(a);
  sb_reset(b);
  sb_printf(b, "%s%s", zh ? "复现环境：" : "Environment: ", zh ? "生产集群\n" : "production\n");
  if (kind < 35) { /* in the additional information */
    keyed(b, g, CAUSE_KEY, cause);
    if (below(g, 6)) keyed(b, g, FIX_KEY, fix);
    r = add_text(x, id, cio_sql_text(steps), text(b));
    if (!r) r = notes(x, id, zh, nn, -1, NULL);
    if (!r) r = revisions(x, id, nr, -1, NULL, zh ? "修订：补充日志" : "revised: more logs");
  } else if (kind < 55) { /* in a note */
    if (below(g, 3) == 0) keyed(b, g, FIX_KEY, zh ? "此方案会被备注中的方案取代" : "superseded");
    r = add_text(x, id, cio_sql_text(steps), text(b));
    keyed(a, g, CAUSE_KEY, cause);
    if (below(g, 5)) keyed(a, g, FIX_KEY, fix);
    if (!r) r = notes(x, id, zh, nn + 1, (int)below(g, nn + 1), a);
    if (!r) r = revisions(x, id, nr, -1, NULL, zh ? "修订：调整描述" : "revised: wording");
  } else if (kind < 70) { /* in a revision */
    r = add_text(x, id, cio_sql_text(steps), text(b));
    if (!r) r = notes(x, id, zh, nn, -1, NULL);
    keyed(a, g, CAUSE_KEY, cause);
    keyed(a, g, FIX_KEY, fix);
    if (!r) r = revisions(x, id, nr + 1, (int)below(g, nr + 1), a, zh ? "修订：初稿" : "draft");
  } else if (kind < 95) { /* nowhere; perhaps a fix alone */
    unsigned where = below(g, 4);
    if (where == 1) keyed(b, g, FIX_KEY, fix);
    r = add_text(x, id, cio_sql_text(steps), text(b));
    if (where == 2) keyed(a, g, FIX_KEY, fix);
    if (!r) r = notes(x, id, zh, nn + (where == 2), where == 2 ? 0 : -1, a);
    sb_reset(a);
    if (where == 3) keyed(a, g, FIX_KEY, fix);
    if (!r) r = revisions(x, id, nr + (where == 3), where == 3 ? 0 : -1, a, "revised");
  } else if (kind < 97) { /* no text row at all */
    r = notes(x, id, zh, nn, -1, NULL);
  } else if (kind < 99) { /* empty texts */
    r = add_text(x, id, cio_sql_text(""), cio_sql_text(""));
    if (!r) r = add_rev(x, id, cio_sql_text(""));
  } else { /* prose the expressions do not read */
    sb_printf(b, "Root cause: %s. Fix: %s.", CAUSE_EN[c % N(CAUSE_EN)], FIX_EN[c % N(FIX_EN)]);
    r = add_text(x, id, cio_sql_text(steps), text(b));
  }
  if (a->err || b->err) return -ENOMEM;
  return r;
}

int bt_demo_load(bt_load *l, int nbugs, uint64_t seed) {
  gen x = {.l = l, .g = {seed}};
  int r = 0;
  for (int64_t id = 1; id <= nbugs && r == 0; id++)
    r = id == 77 ? long_bug(&x, id) : one_bug(&x, id);
  free(x.a.p);
  free(x.b.p);
  if (!r && (x.a.err || x.b.err)) r = -ENOMEM;
  return r;
}
