#!/usr/bin/env python3
"""Expected weights of the milestone, position_based and time_decay models.

Prints tests/data/transform/rule_weights.cases: one journey a line,
model<TAB>touch times in hours<TAB>lead created (hours, - none)<TAB>
deal created (hours, - none)<TAB>expected weights (12 decimals).
Computed apart from the C code with exact fractions and the
largest-remainder rule of docs/MODELS.md §6 (ties to the earlier touch).
"""
from fractions import Fraction as F

SCALE = 10 ** 12


def largest_remainder(shares):
    tot = sum(shares)
    exact = [F(SCALE) * s / tot for s in shares]
    floor = [int(e) for e in exact]
    left = SCALE - sum(floor)
    order = sorted(range(len(shares)), key=lambda i: (-(exact[i] - floor[i]), i))
    for i in order[:left]:
        floor[i] += 1
    return floor


def milestone(times, lc, oc, share, other):
    n = len(times)

    def last_at(ev):
        if ev is None:
            return 0
        k = 0
        for i, t in enumerate(times):
            if t <= ev:
                k = i
        return k
    at = [0, last_at(lc), last_at(oc), n - 1]
    ms = [None] * n
    for m in range(4):
        if share[m]:
            ms[at[m]] = (ms[at[m]] or 0) + share[m]
    k = sum(1 for x in ms if x is None)
    if k == 0:
        return largest_remainder([F(x) for x in ms])
    return largest_remainder([F(other, k) if x is None else F(x) for x in ms])


def position_based(n, first, last):
    if n == 1:
        return [SCALE]
    f, l = int(first * SCALE), int(last * SCALE)
    mid = SCALE - f - l
    if n == 2:
        parts = largest_remainder_total(mid, 2)
        return [f + parts[0], l + parts[1]]
    parts = largest_remainder_total(mid, n - 2)
    return [f] + parts + [l]


def largest_remainder_total(total, n):
    q, r = divmod(total, n)
    return [q + (1 if i < r else 0) for i in range(n)]


def fmt(ws):
    assert sum(ws) == SCALE
    return ','.join('%d.%012d' % divmod(w, SCALE) for w in ws)


def line(model, times, lc, oc, ws):
    ts = ','.join(str(t) for t in times)
    print('%s\t%s\t%s\t%s\t%s' % (model, ts, '-' if lc is None else lc, '-' if oc is None else oc,
                                  fmt(ws)))


MODELS = {
    'u_shaped': ((4, 4, 0, 0), 2),
    'w_shaped': ((3, 3, 3, 0), 1),
    'full_path': ((225, 225, 225, 225), 100),
}
# touches (hours), lead created, deal created: 1, 2, 3 and many touches, events
# before every touch (milestone on t1), coinciding milestones, events unknown
JOURNEYS = [
    ([10], 5, 20),
    ([10], None, None),
    ([10, 20], 15, 25),
    ([10, 20], 25, 25),
    ([10, 20], 5, 5),
    ([10, 20, 30], 15, 25),
    ([10, 20, 30], 20, 20),
    ([10, 20, 30], 30, 40),
    ([10, 20, 30], 5, 5),
    ([10, 20, 30], None, 25),
    ([10, 20, 30, 40], 15, 25),
    ([10, 20, 30, 40], 20, 20),
    ([10, 20, 30, 40, 50, 60, 70], 25, 45),
    ([10, 20, 30, 40, 50, 60, 70], 10, 70),
    ([10, 20, 30, 40, 50, 60, 70], 5, 100),
]
print('# rule model cases for test_transform_models, made by rule_weights_expected.py:')
print('# model<TAB>touch times (hours)<TAB>lead created<TAB>deal created<TAB>expected weights')
for name, (share, other) in MODELS.items():
    for times, lc, oc in JOURNEYS:
        line(name, times, lc, oc, milestone(times, lc, oc, share, other))
for n in (1, 2, 3, 4, 7):
    line('position_based', list(range(10, 10 * n + 1, 10)), None, None,
         position_based(n, F(4, 10), F(4, 10)))
# time_decay, half-life 7 days = 168 h: ages that are whole half-lives give
# powers of two, so the exact weights are rational
for times in ([100], [0, 168, 336], [0, 168, 168, 336], [0, 336, 504, 672]):
    young = max(times)
    line('time_decay', times, None, None,
         largest_remainder([F(1, 2 ** ((young - t) // 168)) for t in times]))
