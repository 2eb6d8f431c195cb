package io.hashidx.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Base64;
import org.HdrHistogram.Histogram;

/**
 * Put latencies of one insert run: every put's time into an HdrHistogram (1 ns to 10 min, 3
 * significant digits), and a time series of windows of {@code entries / windows} puts, each with
 * its maximum, 99th percentile and median, so that growth pauses show where they happen. It also
 * keeps what {@link io.hashidx.bench.report.Stalls} needs to line the windows up with a kernel trace
 * and a JFR recording of the same fork: the putting thread's Linux thread id, and the start of the
 * run on {@code System.nanoTime()}'s clock (CLOCK_MONOTONIC, the kernel trace's {@code mono} clock)
 * and on the wall clock (JFR's).
 */
public final class PutLatencyRecorder {
    private static final long HIGHEST = 600_000_000_000L;

    private final Histogram all = new Histogram(1, HIGHEST, 3);
    private final Histogram window = new Histogram(1, HIGHEST, 3);
    private final int windowSize;
    private final long[] windowEndEntries;
    private final long[] windowEndNanos;
    private final long[] windowMax;
    private final long[] windowP99;
    private final long[] windowP50;
    private int windows;
    private int inWindow;
    private long count;
    private long startNanos;
    private long startEpochNanos;
    private long threadId = -1;

    public PutLatencyRecorder(int entries, int maxWindows) {
        windowSize = Math.max(1, (entries + maxWindows - 1) / maxWindows);
        int capacity = entries / windowSize + 1;
        windowEndEntries = new long[capacity];
        windowEndNanos = new long[capacity];
        windowMax = new long[capacity];
        windowP99 = new long[capacity];
        windowP50 = new long[capacity];
    }

    /** Marks the start of the run (time zero of the series). */
    public void start() {
        threadId = linuxThreadId();
        Instant now = Instant.now();
        startNanos = System.nanoTime();
        startEpochNanos = now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    /** The calling thread's Linux thread id (from {@code /proc/thread-self}), or -1 elsewhere. */
    static long linuxThreadId() {
        try {
            String link = Files.readSymbolicLink(Path.of("/proc/thread-self")).toString();
            return Long.parseLong(link.substring(link.lastIndexOf('/') + 1));
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** The putting thread's Linux thread id, -1 when unknown. */
    public long threadId() {
        return threadId;
    }

    /** {@code System.nanoTime()} at the start: CLOCK_MONOTONIC on Linux. */
    public long startMonoNanos() {
        return startNanos;
    }

    /** Wall-clock time at the start, nanoseconds since the epoch. */
    public long startEpochNanos() {
        return startEpochNanos;
    }

    /** Records one put that took {@code nanos}; {@code now} is the time it ended. */
    public void record(long nanos, long now) {
        long v = Math.max(1, Math.min(nanos, HIGHEST));
        all.recordValue(v);
        window.recordValue(v);
        count++;
        if (++inWindow == windowSize) {
            closeWindow(now);
        }
    }

    /** Closes the last partial window. */
    public void finish() {
        if (inWindow > 0) {
            closeWindow(System.nanoTime());
        }
    }

    private void closeWindow(long now) {
        if (windows < windowEndEntries.length) {
            windowEndEntries[windows] = count;
            windowEndNanos[windows] = now - startNanos;
            windowMax[windows] = window.getMaxValue();
            windowP99[windows] = window.getValueAtPercentile(99);
            windowP50[windows] = window.getValueAtPercentile(50);
            windows++;
        }
        window.reset();
        inWindow = 0;
    }

    public Histogram histogram() {
        return all;
    }

    /** The whole histogram, compressed and Base64-encoded (HdrHistogram's own encoding). */
    public String encodedHistogram() {
        ByteBuffer buf = ByteBuffer.allocate(all.getNeededByteBufferCapacity());
        int len = all.encodeIntoCompressedByteBuffer(buf);
        return Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(buf.array(), len));
    }

    /** The series as CSV: entries inserted, milliseconds since start, window max, p99 and p50 in ns. */
    public String seriesCsv() {
        StringBuilder sb = new StringBuilder("entries,elapsed_ms,max_ns,p99_ns,p50_ns\n");
        for (int i = 0; i < windows; i++) {
            sb.append(windowEndEntries[i]).append(',')
                    .append(String.format(java.util.Locale.ROOT, "%.3f", windowEndNanos[i] / 1e6)).append(',')
                    .append(windowMax[i]).append(',')
                    .append(windowP99[i]).append(',')
                    .append(windowP50[i]).append('\n');
        }
        return sb.toString();
    }

    public int windowSize() {
        return windowSize;
    }
}
