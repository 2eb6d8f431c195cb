package io.hashidx.bench.report;

import io.hashidx.bench.Workload;
import java.util.Locale;

/**
 * A result in the unit the report shows it in, with the interval JMH's 99.9% error gives: ops/s,
 * entries/s (a whole load per iteration, converted from seconds per load), ms per open, µs per
 * cold get.
 *
 * @param value          the figure
 * @param low            its lower bound at JMH's error (NaN when JMH gave no error: one sample)
 * @param high           its upper bound
 * @param unit           what it counts
 * @param higherIsBetter true for rates, false for times
 */
record Figure(double value, double low, double high, String unit, boolean higherIsBetter) {

    static Figure of(Results.Score s) {
        double err = s.error();
        Workload w = s.workload();
        switch (w) {
            case GET_HIT, GET_MISS, GET_OR_OVERWRITE, GET_HIT_TWO_THREADS -> {
                return new Figure(s.score(), Math.max(0, s.score() - err), s.score() + err, "ops/s", true);
            }
            case INSERT, INSERT_LATENCY, BULK_LOAD -> {
                double n = s.entries();
                double low = n / (s.score() + err);
                double high = err >= s.score() ? Double.POSITIVE_INFINITY : n / (s.score() - err);
                return new Figure(n / s.score(), Double.isNaN(err) ? Double.NaN : low, Double.isNaN(err) ? Double.NaN : high,
                        "entries/s", true);
            }
            case OPEN -> {
                return new Figure(s.score(), Math.max(0, s.score() - err), s.score() + err, "ms", false);
            }
            case COLD_GET -> {
                double perGet = 1e6 / Integer.parseInt(s.params().getOrDefault("coldGets", "1"));
                return new Figure(s.score() * perGet, Math.max(0, (s.score() - err) * perGet), (s.score() + err) * perGet,
                        "µs/get", false);
            }
            default -> throw new IllegalArgumentException(w.toString());
        }
    }

    boolean hasBounds() {
        return !Double.isNaN(low) && !Double.isNaN(high);
    }

    /** hashidx's figure over a peer's, with the ratio's bounds from both intervals. */
    static Ratio ratio(Figure hashidx, Figure peer) {
        double r = hashidx.value / peer.value;
        if (!hashidx.hasBounds() || !peer.hasBounds()) {
            return new Ratio(r, Double.NaN, Double.NaN, hashidx.higherIsBetter);
        }
        double low = hashidx.low / peer.high;
        double high = peer.low <= 0 ? Double.POSITIVE_INFINITY : hashidx.high / peer.low;
        return new Ratio(r, low, high, hashidx.higherIsBetter);
    }

    /** A ratio hashidx/peer and its bounds at JMH's error. */
    record Ratio(double value, double low, double high, boolean higherIsBetter) {
        boolean hasBounds() {
            return !Double.isNaN(low) && !Double.isNaN(high);
        }

        /** hashidx is better/worse than the peer at the error bound, or cannot be told apart. */
        String verdict() {
            if (!hasBounds()) {
                return "no error bound";
            }
            if (low > 1) {
                return higherIsBetter ? "**hashidx faster**" : "hashidx slower";
            }
            if (high < 1) {
                return higherIsBetter ? "hashidx slower" : "**hashidx faster**";
            }
            return "within error";
        }

        /** Whether this ratio reaches {@code target} (a ratio in the same direction): met, missed or undecided. */
        String against(double target) {
            if (!hasBounds()) {
                return value >= target ? "met (no error bound)" : "missed (no error bound)";
            }
            if (low >= target) {
                return "**met**";
            }
            if (high < target) {
                return "missed";
            }
            return "undecided at the error bound";
        }

        String format() {
            String v = Report.ratio(value);
            return hasBounds() ? v + " [" + Report.ratio(low) + " – " + Report.ratio(high) + "]" : v;
        }
    }

    String format() {
        String v = Report.human(value);
        if (!hasBounds()) {
            return v + " " + unit + " (±?)";
        }
        double below = value - low;
        double above = high - value;
        if (Double.isInfinite(above) || Math.abs(above - below) > 0.05 * value) {
            return v + " " + unit + " [" + Report.human(low) + " – " + (Double.isInfinite(high) ? "∞" : Report.human(high)) + "]";
        }
        return v + " ± " + Report.human((above + below) / 2) + " " + unit;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%s", format());
    }
}
