#!/usr/bin/env python3
"""Expected figures for test_transform_fit, computed apart from the C code.

Reads the shared fixture channelattribution_paths.csv (path;total_conversions;
total_conversion_value;total_null) and prints, with exact rational
arithmetic (fractions.Fraction):

  first_touch / last_touch / linear: conversions and value per channel,
    over the paths as given (linear: 1/n per touch, repeats included);
  markov: the first-order removal effect of each channel over the paths
    with consecutive repeats collapsed, non-converting journeys included,
    absorption probabilities solved exactly.

Usage: conformance_expected.py <shared>/fixtures/attribution/channelattribution_paths.csv
The output is tests/data/transform/channelattribution_expected.tsv.
"""
import csv
import sys
from fractions import Fraction as F


def collapse(p):
    out = []
    for c in p:
        if not out or out[-1] != c:
            out.append(c)
    return out


def solve(a, b):
    """Gauss-Jordan elimination over the rationals: a x = b."""
    n = len(b)
    a = [row[:] + [b[i]] for i, row in enumerate(a)]
    for col in range(n):
        piv = next(r for r in range(col, n) if a[r][col] != 0)
        a[col], a[piv] = a[piv], a[col]
        for r in range(n):
            if r != col and a[r][col] != 0:
                f = a[r][col] / a[col][col]
                a[r] = [x - f * y for x, y in zip(a[r], a[col])]
    return [a[i][n] / a[i][i] for i in range(n)]


def main():
    rows = list(csv.reader(open(sys.argv[1], newline=''), delimiter=';'))[1:]
    paths = [(r[0].split(' > '), int(r[1]), F(r[2]), int(r[3])) for r in rows]
    chans = sorted({c for p, _, _, _ in paths for c in p})
    idx = {c: i for i, c in enumerate(chans)}
    k = len(chans)
    stats = {m: {c: [F(0), F(0)] for c in chans} for m in ('first_touch', 'last_touch', 'linear')}
    for p, conv, val, _ in paths:
        stats['first_touch'][p[0]][0] += conv
        stats['first_touch'][p[0]][1] += val
        stats['last_touch'][p[-1]][0] += conv
        stats['last_touch'][p[-1]][1] += val
        for c in p:
            stats['linear'][c][0] += F(conv, len(p))
            stats['linear'][c][1] += val / len(p)
    # markov
    n = [[F(0)] * k for _ in range(k)]
    start = [F(0)] * k
    conv_t = [F(0)] * k
    null_t = [F(0)] * k
    for p, conv, _, nul in paths:
        p = collapse(p)
        w = conv + nul
        start[idx[p[0]]] += w
        for a, b in zip(p, p[1:]):
            n[idx[a]][idx[b]] += w
        conv_t[idx[p[-1]]] += conv
        null_t[idx[p[-1]]] += nul
    tot = [sum(n[i]) + conv_t[i] + null_t[i] for i in range(k)]
    q = [[n[i][j] / tot[i] for j in range(k)] for i in range(k)]
    r = [conv_t[i] / tot[i] for i in range(k)]
    s = [x / sum(start) for x in start]

    def pconv(removed):
        a = [[(F(1) if i == j else F(0)) - (F(0) if i == removed else q[i][j]) for j in range(k)]
             for i in range(k)]
        b = [F(0) if i == removed else r[i] for i in range(k)]
        x = solve(a, b)
        return sum(s[j] * x[j] for j in range(k) if j != removed)

    p_all = pconv(None)
    print('# channelattribution_paths.csv expected figures (conformance_expected.py)')
    print('# model\tchannel\tstatistic\tvalue')
    print('markov\t(all)\tp_conversion\t%.17g' % float(p_all))
    for c in chans:
        re = 1 - pconv(idx[c]) / p_all
        print('markov\t%s\tremoval_effect\t%.17g' % (c, float(re)))
    for m in ('first_touch', 'last_touch', 'linear'):
        for c in chans:
            print('%s\t%s\tconversions\t%.17g' % (m, c, float(stats[m][c][0])))
            print('%s\t%s\tvalue\t%.17g' % (m, c, float(stats[m][c][1])))


main()
