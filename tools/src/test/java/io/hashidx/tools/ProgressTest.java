package io.hashidx.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class ProgressTest {
    /** A clock the test moves by hand. */
    private long now = 1_000_000_000L;

    private final StringWriter err = new StringWriter();

    @Test
    void onATerminalOneLineOverwritesItselfAtMostEvery200ms() {
        Progress p = new Progress(new PrintWriter(err), true, () -> now);

        now += 100_000_000L;
        p.update("loading", 500, "entries", 0.25);
        assertThat(err.toString()).as("nothing before 200 ms").isEmpty();

        now += 100_000_000L;
        p.update("loading", 1_000, "entries", 0.5);
        assertThat(err.toString()).isEqualTo("\rloading 1,000 entries  5,000/s  50.0%  ETA 0:00");

        now += 199_000_000L;
        p.update("loading", 1_900, "entries", 0.95);
        assertThat(err.toString()).as("199 ms later: not yet").isEqualTo("\rloading 1,000 entries  5,000/s  50.0%  ETA 0:00");

        now += 1_000_000L;
        p.update("loading", 2_000, "entries", Double.NaN);
        assertThat(err.toString()).endsWith("\rloading 2,000 entries  5,000/s" + " ".repeat(17));

        p.finish();
        assertThat(err.toString()).endsWith("\r" + " ".repeat(30) + "\r");
    }

    @Test
    void inALogAPlainLineAppearsAtMostEvery10Seconds() {
        Progress p = new Progress(new PrintWriter(err), false, () -> now);

        now += 9_999_000_000L;
        p.update("loading", 1_000, "entries", 0.1);
        assertThat(err.toString()).as("a load shorter than 10 s prints nothing").isEmpty();

        now += 1_000_000L;
        p.update("loading", 1_000_000, "entries", 0.1);
        now += 5_000_000_000L;
        p.update("loading", 1_500_000, "entries", 0.15);
        p.finish();

        assertThat(err.toString()).isEqualTo("hashidx: loading 1,000,000 entries, 100,000/s, 10.0%, ETA 1:30\n");
    }

    @Test
    void aNewPhaseTimesItsRateFromItsOwnStart() {
        Progress p = new Progress(new PrintWriter(err), true, () -> now);
        now += 5_000_000_000L;
        p.update("scanning", 5_000_000, "lines", 0.99);
        String scanned = err.toString();

        p.startPhase();
        now += 199_000_000L;
        p.update("loading", 1_000, "entries", 0.001);
        assertThat(err.toString()).as("first update one interval into the phase").isEqualTo(scanned);
        now += 1_000_000L;
        p.update("loading", 2_000, "entries", 0.002);

        assertThat(scanned).isEqualTo("\rscanning 5,000,000 lines  1,000,000/s  99.0%  ETA 0:00");
        assertThat(err.toString()).isEqualTo(scanned + "\rloading 2,000 entries  10,000/s  0.2%  ETA 1:40"
                + " ".repeat(7));
    }

    @Test
    void etaCountsHours() {
        Progress p = new Progress(new PrintWriter(err), false, () -> now);

        now += 36_000_000_000_000L;
        p.update("scanning", 10, "lines", 0.01);

        assertThat(err.toString()).isEqualTo("hashidx: scanning 10 lines, 0/s, 1.0%, ETA 990:00:00\n");
    }

    @Test
    void aDetailGoesAtTheEndOfTheLine() {
        Progress p = new Progress(new PrintWriter(err), false, () -> now);

        now += 10_000_000_000L;
        p.update("torture", 20, "kills", 0.1, "5,000 ops, losses 0");

        assertThat(err.toString()).isEqualTo("hashidx: torture 20 kills, 2/s, 10.0%, ETA 1:30, 5,000 ops, losses 0\n");
    }
}
