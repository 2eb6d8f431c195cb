package io.hashidx.tools;

import java.io.PrintWriter;
import java.util.function.LongSupplier;

/**
 * Progress of a long load on stderr. On a terminal ({@code -Dhashidx.stderr.tty=true}, set by the
 * launcher, which tests {@code [ -t 2 ]}) one line that redraws itself ({@code \r}): a bar, the percentage,
 * the count, the rate and the time left, shown at once when a phase starts and then at most every 200 ms,
 * kept under 80 columns. Otherwise, for logs, a plain line at most every 10 seconds, so that a short load
 * prints nothing.
 *
 * <pre>
 * loading [#######.........]  45.1% 1,370,112 entries 1,711,669/s ETA 0:01
 * hashidx: loading 1,370,112 entries, 1,711,669/s, 45.1%, ETA 0:01
 * </pre>
 */
final class Progress {
    static final long TERMINAL_INTERVAL_NANOS = 200_000_000L;
    static final long LOG_INTERVAL_NANOS = 10_000_000_000L;
    static final int BAR_WIDTH = 16;

    private final PrintWriter err;
    private final boolean terminal;
    private final LongSupplier nanoClock;
    private final long interval;
    private long phaseStart;
    private long lastShown;
    private boolean shownInPhase;
    private int shownWidth;

    /**
     * @param terminal  whether stderr is a terminal (self-redrawing line) or a log (plain lines)
     * @param nanoClock {@code System::nanoTime}, or a fake clock in tests
     */
    Progress(PrintWriter err, boolean terminal, LongSupplier nanoClock) {
        this.err = err;
        this.terminal = terminal;
        this.nanoClock = nanoClock;
        this.interval = terminal ? TERMINAL_INTERVAL_NANOS : LOG_INTERVAL_NANOS;
        startPhase();
    }

    /**
     * Starts timing a new phase (e.g. loading after scanning): rates and ETAs count from here. On a
     * terminal its first update is shown at once; in a log one interval later.
     */
    void startPhase() {
        phaseStart = nanoClock.getAsLong();
        lastShown = phaseStart;
        shownInPhase = false;
    }

    /**
     * Shows the progress if the interval has passed since it was last shown (or since the phase started).
     *
     * @param phase    what is being done, e.g. "loading"
     * @param count    lines, entries or bytes done
     * @param unit     what {@code count} counts, e.g. "entries"
     * @param fraction the part done, 0..1, or NaN when the total is unknown (no bar, no percent, no ETA)
     */
    void update(String phase, long count, String unit, double fraction) {
        update(phase, count, unit, fraction, null);
    }

    /** Like {@link #update(String, long, String, double)}, with {@code detail} (or nothing, when null) at the end. */
    synchronized void update(String phase, long count, String unit, double fraction, String detail) {
        long now = nanoClock.getAsLong();
        boolean firstOnTerminal = terminal && !shownInPhase;
        if (!firstOnTerminal && now - lastShown < interval) {
            return;
        }
        lastShown = now;
        shownInPhase = true;
        double seconds = Math.max(1e-9, (now - phaseStart) / 1e9);
        String rate = Figures.count(Math.round(count / seconds)) + "/s";
        boolean known = !Double.isNaN(fraction) && fraction > 0;
        double part = known ? Math.min(1, fraction) : 0;
        String eta = known ? "ETA " + Figures.duration(seconds * (1 - part) / part) : "";
        String percent = known ? Figures.decimal(100 * part, 1) + "%" : "";
        if (terminal) {
            StringBuilder s = new StringBuilder(phase).append(' ');
            if (known) {
                int filled = (int) Math.floor(part * BAR_WIDTH);
                s.append('[').append("#".repeat(filled)).append(".".repeat(BAR_WIDTH - filled)).append("] ")
                        .append(String.format("%6s", percent)).append(' ');
            }
            s.append(Figures.count(count)).append(' ').append(unit).append(' ').append(rate);
            if (known) {
                s.append(' ').append(eta);
            }
            if (detail != null) {
                s.append("  ").append(detail);
            }
            String text = s.toString();
            err.print('\r' + text + " ".repeat(Math.max(0, shownWidth - text.length())));
            shownWidth = text.length();
        } else {
            StringBuilder s = new StringBuilder("hashidx: ").append(phase).append(' ').append(Figures.count(count))
                    .append(' ').append(unit).append(", ").append(rate);
            if (known) {
                s.append(", ").append(percent).append(", ").append(eta);
            }
            if (detail != null) {
                s.append(", ").append(detail);
            }
            err.println(s);
        }
        err.flush();
    }

    /** Clears the terminal line, so that what follows starts on a clean line. */
    synchronized void finish() {
        if (terminal && shownWidth > 0) {
            err.print('\r' + " ".repeat(shownWidth) + '\r');
            err.flush();
            shownWidth = 0;
        }
    }
}
