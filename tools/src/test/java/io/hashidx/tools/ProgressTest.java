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
    void onATerminalTheBarIsShownAtOnceThenRedrawnAtMostEvery200ms() {
        Progress p = new Progress(new PrintWriter(err), true, () -> now);

        now += 100_000_000L;
        p.update("loading", 500, "entries", 0.25);
        String first = "\rloading [####............]  25.0% 500 entries 5,000/s ETA 0:00";
        assertThat(err.toString()).as("the first update of a phase at once").isEqualTo(first);

        now += 100_000_000L;
        p.update("loading", 1_000, "entries", 0.5);
        assertThat(err.toString()).as("100 ms later: not yet").isEqualTo(first);

        now += 100_000_000L;
        p.update("loading", 1_500, "entries", 0.5);
        String second = "\rloading [########........]  50.0% 1,500 entries 5,000/s ETA 0:00";
        assertThat(err.toString()).isEqualTo(first + second);

        now += 200_000_000L;
        p.update("loading", 2_500, "entries", Double.NaN);
        assertThat(err.toString()).as("no total: no bar, the old line blanked out")
                .isEqualTo(first + second + "\rloading 2,500 entries 5,000/s" + " ".repeat(35));

        p.finish();
        assertThat(err.toString()).endsWith("\r" + " ".repeat(29) + "\r");
    }

    @Test
    void theTerminalLineStaysUnder80ColumnsForABillionEntries() {
        Progress p = new Progress(new PrintWriter(err), true, () -> now);

        now += 100_000_000_000L;
        p.update("scanning", 999_999_999, "entries", 0.999);

        assertThat(err.toString()).isEqualTo(
                "\rscanning [###############.]  99.9% 999,999,999 entries 10,000,000/s ETA 0:00");
        assertThat(err.toString().length() - 1).isLessThan(80);
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
    void aNewPhaseTimesItsRateFromItsOwnStartAndShowsAtOnce() {
        Progress p = new Progress(new PrintWriter(err), true, () -> now);
        now += 5_000_000_000L;
        p.update("scanning", 5_000_000, "lines", 0.99);
        String scanned = err.toString();

        now += 1_000_000L;
        p.startPhase();
        now += 10_000_000L;
        p.update("loading", 1_000, "entries", 0.001);

        assertThat(scanned).isEqualTo("\rscanning [###############.]  99.0% 5,000,000 lines 1,000,000/s ETA 0:00");
        assertThat(err.toString()).isEqualTo(scanned + "\rloading [................]   0.1% 1,000 entries 100,000/s ETA 0:10"
                + " ".repeat(5));
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
