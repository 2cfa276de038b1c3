"""Comparing two answers to the same request (bt_http.Response.record()
dicts): what must be equal, what is only reported, and the differences that
are known and explained (expected_differences.json)."""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))

# Headers whose values are part of the behaviour: a difference fails.
STRICT = ["content-type", "content-length", "location", "allow", "vary",
          "access-control-allow-origin", "access-control-allow-methods",
          "access-control-allow-headers", "access-control-max-age",
          "access-control-allow-credentials", "access-control-expose-headers",
          "content-range", "transfer-encoding"]
# Headers that differ between two servers by design (their formats are the
# server's choice): reported, never failing.
SOFT = ["server", "date", "etag", "last-modified", "accept-ranges", "connection",
        "cache-control"]


def headers_of(rec):
    out = {}
    for k, v in rec["headers"]:
        out.setdefault(k.lower(), []).append(v)
    return out


def diff(want, got):
    """(hard, soft): lists of "what: want != got" strings."""
    hard, soft = [], []
    if want["status"] != got["status"]:
        hard.append(f"status: {want['status']} != {got['status']}")
    if want["body"] != got["body"]:
        hard.append(f"body: {short(want['body'])} != {short(got['body'])}")
    hw, hg = headers_of(want), headers_of(got)
    for k in sorted(set(hw) | set(hg)):
        a, b = hw.get(k), hg.get(k)
        if a == b:
            continue
        line = f"header {k}: {a} != {b}"
        if k in SOFT or k not in STRICT:
            # Unknown headers on either side are reported too: a header the
            # original sends that we do not (or the reverse) is worth seeing.
            (soft if k in SOFT else hard).append(line)
        else:
            hard.append(line)
    if want.get("reason") != got.get("reason"):
        soft.append(f"reason: {want.get('reason')!r} != {got.get('reason')!r}")
    return hard, soft


def short(body):
    s = json.dumps(body, ensure_ascii=False)
    return s if len(s) <= 160 else s[:157] + "..."


def expected():
    """{case name or "*" (every case): [{"match": substring of a hard
    difference, "why": ...}]}"""
    path = os.path.join(HERE, "expected_differences.json")
    if not os.path.exists(path):
        return {}
    return json.load(open(path, encoding="utf-8"))


class Tally:
    """Counts and prints the outcome of many comparisons."""

    def __init__(self, label):
        self.label = label
        self.cases = self.failed = self.explained = 0
        self.soft = {}
        self.known = expected()
        self.seen = set()

    def check(self, name, want, got):
        self.cases += 1
        hard, soft = diff(want, got)
        # A case's own entry explains the whole case (a status that differs
        # brings a body and headers that differ); an entry for "*" explains
        # the lines it matches only.
        left = []
        own = [e for e in self.known.get(name, []) if any(e["match"] in h for h in hard)]
        for e in own:
            self.seen.add((name, e["match"]))
            print(f"  known  {name}: {e['match']}\n         ({e['why']})")
        if own:
            self.explained += 1
            hard = []
        for h in hard:
            e = next((e for e in self.known.get("*", []) if e["match"] in h), None)
            if e:
                self.explained += 1
                self.seen.add(("*", e["match"]))
            else:
                left.append(h)
        for s in soft:
            key = s.split(":")[0]
            self.soft.setdefault(key, []).append(name)
        if left:
            self.failed += 1
            print(f"  DIFF   {name}:")
            for h in left:
                print(f"         {h}")
        return not left

    def report(self, checked_names=None):
        """Print the notes and the summary; True when nothing unexplained
        differed. Known differences of checked_names that did not show up
        are listed (fixed since: drop them from expected_differences.json)."""
        for key, names in sorted(self.soft.items()):
            print(f"  note   {key} differs in {len(names)} cases (e.g. {names[0]})")
        for k, v in self.known.items():
            if checked_names is not None and k != "*" and k not in checked_names:
                continue
            for e in v:
                if (k, e["match"]) not in self.seen:
                    print(f"  stale  {k}: expected difference not seen: {e['match']}")
        print(f"{self.label}: {self.cases} cases, {self.failed} with unexplained "
              f"differences, {self.explained} known differences")
        return self.failed == 0
