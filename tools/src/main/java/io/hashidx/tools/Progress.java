package io.hashidx.tools;

import java.io.PrintWriter;
import java.util.function.LongSupplier;

/**
 * Progress of a long load on stderr. On a terminal ({@code -Dhashidx.stderr.tty=true}, set by the
 * launcher) one line that overwrites itself ({@code \r}) at most every 200 ms; otherwise, for logs, a
 * plain line at most every 10 seconds, so a short load prints nothing.
 */
final class Progress {
    static final long TERMINAL_INTERVAL_NANOS = 200_000_000L;
    static final long LOG_INTERVAL_NANOS = 10_000_000_000L;

    private final PrintWriter err;
    private final boolean terminal;
    private final LongSupplier nanoClock;
    private final long interval;
    private long phaseStart;
    private long lastShown;
    private int shownWidth;

    /**
     * @param terminal  whether stderr is a terminal (self-overwriting line) or a log (plain lines)
     * @param nanoClock {@code System::nanoTime}, or a fake clock in tests
     */
    Progress(PrintWriter err, boolean terminal, LongSupplier nanoClock) {
        this.err = err;
        this.terminal = terminal;
        this.nanoClock = nanoClock;
        this.interval = terminal ? TERMINAL_INTERVAL_NANOS : LOG_INTERVAL_NANOS;
        this.phaseStart = nanoClock.getAsLong();
        this.lastShown = phaseStart;
    }

    /**
     * Starts timing a new phase (e.g. loading after scanning): rates and ETAs count from here, and the
     * first update is shown one interval later.
     */
    void startPhase() {
        phaseStart = nanoClock.getAsLong();
        lastShown = phaseStart;
    }

    /**
     * Shows the progress if the interval has passed since it was last shown (or since the phase started).
     *
     * @param phase    what is being counted, e.g. "loading"
     * @param count    lines or entries done
     * @param unit     what {@code count} counts, e.g. "entries"
     * @param fraction the part done, 0..1, or NaN when the total is unknown (no percent, no ETA)
     */
    void update(String phase, long count, String unit, double fraction) {
        update(phase, count, unit, fraction, null);
    }

    /** Like {@link #update(String, long, String, double)}, with {@code detail} (or nothing, when null) at the end. */
    void update(String phase, long count, String unit, double fraction, String detail) {
        long now = nanoClock.getAsLong();
        if (now - lastShown < interval) {
            return;
        }
        lastShown = now;
        double seconds = (now - phaseStart) / 1e9;
        StringBuilder s = new StringBuilder();
        s.append(terminal ? "" : "hashidx: ").append(phase).append(' ').append(Figures.count(count)).append(' ')
                .append(unit).append(terminal ? "  " : ", ")
                .append(Figures.count(Math.round(count / seconds))).append("/s");
        if (!Double.isNaN(fraction) && fraction > 0) {
            double eta = seconds * (1 - fraction) / fraction;
            s.append(terminal ? "  " : ", ").append(Figures.decimal(100 * Math.min(1, fraction), 1)).append('%')
                    .append(terminal ? "  " : ", ").append("ETA ").append(Figures.duration(eta));
        }
        if (detail != null) {
            s.append(terminal ? "  " : ", ").append(detail);
        }
        if (terminal) {
            String text = s.toString();
            err.print('\r' + text + " ".repeat(Math.max(0, shownWidth - text.length())));
            shownWidth = text.length();
        } else {
            err.println(s);
        }
        err.flush();
    }

    /** Clears the terminal line, so what follows starts on a clean line. */
    void finish() {
        if (terminal && shownWidth > 0) {
            err.print('\r' + " ".repeat(shownWidth) + '\r');
            err.flush();
            shownWidth = 0;
        }
    }
}
