package io.hashidx.tools;

import java.util.Locale;

/** Number formatting for the human-readable outputs (JSON output prints plain numbers instead). */
final class Figures {
    private Figures() {
    }

    /** {@code 1234567} as {@code 1,234,567}. */
    static String count(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }

    /** A fixed number of decimals, with grouping: {@code 1,234.5}. */
    static String decimal(double d, int decimals) {
        return String.format(Locale.ROOT, "%,." + decimals + "f", d);
    }

    /** {@code 6823936} as {@code 6,823,936 (6.5 MiB)}; below 1 KiB just the count. */
    static String bytes(long n) {
        if (n < 1024) {
            return count(n);
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return count(n) + " (" + String.format(Locale.ROOT, "%.1f", v) + " " + units[u] + ")";
    }

    /** Seconds as {@code m:ss} or {@code h:mm:ss}. */
    static String duration(double seconds) {
        long s = Math.round(seconds);
        long h = s / 3600;
        long m = (s / 60) % 60;
        long sec = s % 60;
        return h > 0
                ? String.format(Locale.ROOT, "%d:%02d:%02d", h, m, sec)
                : String.format(Locale.ROOT, "%d:%02d", m, sec);
    }

    /** A 64-bit value as 16 hex digits with a {@code 0x} prefix. */
    static String hex64(long v) {
        return String.format(Locale.ROOT, "0x%016x", v);
    }
}
