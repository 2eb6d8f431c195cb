package io.hashidx.store.jcstress;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs jcstress ({@code org.openjdk.jcstress.Main}, same arguments) and fails the process when a test
 * failed: jcstress 0.16 exits 0 whatever its tests found. Its console report ends with
 * {@code (Results: P planned; N passed, F failed, S soft errs, H hard errs)}; a failed test (a
 * forbidden outcome), a hard error, or no test passed at all exits 1.
 */
public final class JcstressRun {
    private static final Pattern RESULTS = Pattern.compile(
            "\\(Results: (\\d+) planned; (\\d+) passed, (\\d+) failed, (\\d+) soft errs, (\\d+) hard errs\\)");

    private JcstressRun() {
    }

    public static void main(String[] args) throws Exception {
        PrintStream console = System.out;
        ByteArrayOutputStream copy = new ByteArrayOutputStream();
        System.setOut(new PrintStream(new OutputStream() {
            @Override
            public void write(int b) {
                console.write(b);
                copy.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                console.write(b, off, len);
                copy.write(b, off, len);
            }

            @Override
            public void flush() {
                console.flush();
            }
        }, true, StandardCharsets.UTF_8));
        org.openjdk.jcstress.Main.main(args);
        System.out.flush();
        Matcher m = RESULTS.matcher(copy.toString(StandardCharsets.UTF_8));
        String last = null;
        long passed = 0;
        long failed = 0;
        long hard = 0;
        while (m.find()) {
            last = m.group();
            passed = Long.parseLong(m.group(2));
            failed = Long.parseLong(m.group(3));
            hard = Long.parseLong(m.group(5));
        }
        if (last == null || failed > 0 || hard > 0 || passed == 0) {
            console.println("jcstress FAILED: " + (last == null ? "no results line" : last));
            System.exit(1);
        }
        console.println("jcstress passed: " + last);
        System.exit(0);
    }
}
