package io.hashidx.tools.torture;

import io.hashidx.store.HashIndex;
import io.hashidx.store.Inspection;
import io.hashidx.store.Salvage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the parent knows about one torture file: for every key id, the operation number of its last
 * acknowledged put (none when removed or never put), and the operation in flight. {@link #check}
 * compares a reopened file with it.
 */
final class Model {
    /**
     * A crash may leak the cell being allocated (FORMAT.md section 8): the header then counts one
     * overflow page, or once that array is freed one free cell, more than the structures hold.
     */
    private static final Pattern LEAK_DRIFT = Pattern.compile(
            "header counts (\\d+) (?:overflow pages in the (?:bucket|old) array, found|free pages, the free list holds) (\\d+)");
    /**
     * A kill in the middle of writing a header copy leaves it torn; an open uses the other copy and a
     * read-write open rewrites both (FORMAT.md section 2).
     */
    private static final Pattern TORN_HEADER_COPY = Pattern.compile("header copy [AB] at file offset \\d+ is damaged .*");
    private static final int SHOWN = 10;

    /** An operation a child announced: a put of {@code value(id, op)}, or a remove ({@code op} -1). */
    record Op(boolean put, long id, long op) {
    }

    private final Workload workload;
    private final Map<Long, Long> live = new HashMap<>();
    private long nextId;
    private long nextOp;
    private Op pending;

    Model(Workload workload) {
        this.workload = workload;
    }

    /** The first key id never used: the next new key. */
    long nextId() {
        return nextId;
    }

    /** The first operation number never used. */
    long nextOp() {
        return nextOp;
    }

    /** Keys live after the acknowledged operations: the file's exact entry count. */
    long size() {
        return live.size();
    }

    /** The operation announced and not acknowledged yet (in flight at a kill), or null. */
    Op pending() {
        return pending;
    }

    void announce(Op op) {
        pending = op;
        nextId = Math.max(nextId, op.id() + 1);
        nextOp = Math.max(nextOp, op.op() + 1);
    }

    /** Applies an acknowledgement; false when it is not the announced operation (a protocol error). */
    boolean acknowledge(Op op) {
        if (!op.equals(pending)) {
            return false;
        }
        apply(op);
        pending = null;
        return true;
    }

    /**
     * Applies the acknowledgement of a conditional put that did not write (its key was absent, or held
     * another value): the file must hold what it held; false when no put of {@code id} was announced.
     */
    boolean acknowledgeUnchanged(long id) {
        if (pending == null || !pending.put() || pending.id() != id) {
            return false;
        }
        pending = null;
        return true;
    }

    private void apply(Op op) {
        if (op.put()) {
            live.put(op.id(), op.op());
        } else {
            live.remove(op.id());
        }
    }

    /** What one check after a kill found. Losses: an acknowledged operation not in the file. */
    static final class Check {
        final List<String> losses = new ArrayList<>();
        final List<String> invariantFailures = new ArrayList<>();
        long lossCount;
        long invariantFailureCount;
        long keyChecks;
        /** 1 when the operation in flight took effect, 0 when not, -1 when nothing was in flight (or it changed nothing). */
        int inFlightApplied = -1;
        long leakedCells;
        long countDrift;
        boolean tornHeaderCopy;
        Inspection inspection;

        void loss(String message) {
            if (lossCount++ < SHOWN) {
                losses.add(message);
            }
        }

        void invariant(String message) {
            if (invariantFailureCount++ < SHOWN) {
                invariantFailures.add(message);
            }
        }

        boolean ok() {
            return lossCount == 0 && invariantFailureCount == 0;
        }
    }

    /**
     * Resolves the operation in flight (done or not: either is fine), then checks every key ever used,
     * {@code size()}, one iteration (each entry once), {@code verify()} and the cells accounted for.
     * {@code leakAllowance} bounds the cells kills may have leaked (2 per kill on this file).
     */
    Check check(HashIndex idx, long iterationSeed, long leakAllowance) {
        Check c = new Check();
        resolvePending(idx, c);
        for (long id = 0; id < nextId; id++) {
            byte[] actual = idx.get(workload.key(id));
            c.keyChecks++;
            Long op = live.get(id);
            byte[] expected = op == null ? null : workload.value(id, op);
            if (!Arrays.equals(actual, expected)) {
                c.loss("key " + id + ": " + (op == null ? "removed (or never put)" : "put by operation " + op
                        + " as " + hex(expected)) + ", but get returns " + hex(actual));
            }
        }
        long size = idx.size();
        if (size != live.size()) {
            c.invariant("size() is " + size + " but " + live.size() + " keys are live");
        }
        checkIteration(idx, iterationSeed, c);
        checkVerify(idx, leakAllowance, c);
        c.inspection = idx.inspect();
        Inspection in = c.inspection;
        c.leakedCells = in.allocatedPages() - (1 + in.buckets() + in.growth().oldBuckets() + in.overflowPages()
                + in.growth().oldOverflowPages() + in.freePages() + in.retiredPages() + in.recordPages());
        if (c.leakedCells < 0 || c.leakedCells > leakAllowance) {
            c.invariant(c.leakedCells + " cells are allocated but in no structure; kills may leak at most "
                    + leakAllowance + " on this file");
        }
        return c;
    }

    /**
     * Salvages the file as the kill left it (what {@code hashidx recover} would copy) and checks that
     * this is exactly what the model holds, with nothing reported but a torn header copy. Call after
     * {@link #check}, which settles the operation in flight.
     */
    void checkSalvage(Path file, Check c) {
        Map<Long, byte[]> salvaged = new HashMap<>();
        Salvage.Report report;
        try (Salvage salvage = Salvage.open(file)) {
            report = salvage.copyTo((key, value) -> {
                long id = workload.id(key);
                if (id < 0 || salvaged.put(id, value) != null) {
                    c.invariant("salvage handed over " + (id < 0 ? "a foreign key " + hex(key) : "key " + id + " twice"));
                }
            });
        }
        for (Salvage.Problem p : report.problems()) {
            if (!p.kind().equals("header_copy")) {
                c.invariant("salvage reports " + p.kind() + " at offset " + p.fileOffset() + ": " + p.description());
            }
        }
        if (!report.complete()) {
            c.invariant("salvage recovered " + report.recoveredEntries() + " of " + report.expectedEntries()
                    + " entries, " + report.unreadableSlots() + " slots unreadable");
        }
        compareWithLive(salvaged, "salvage", c::invariant);
    }

    private void resolvePending(HashIndex idx, Check c) {
        if (pending == null) {
            return;
        }
        Op op = pending;
        pending = null;
        byte[] actual = idx.get(workload.key(op.id()));
        Long before = live.get(op.id());
        byte[] old = before == null ? null : workload.value(op.id(), before);
        byte[] after = op.put() ? workload.value(op.id(), op.op()) : null;
        if (Arrays.equals(actual, after)) {
            c.inFlightApplied = Arrays.equals(old, after) ? -1 : 1;
            apply(op);
        } else if (Arrays.equals(actual, old)) {
            c.inFlightApplied = 0;
        } else {
            c.loss("key " + op.id() + ", the operation in flight (" + (op.put() ? "put by operation " + op.op() : "remove")
                    + "): get returns " + hex(actual) + ", neither the value before (" + hex(old) + ") nor after ("
                    + hex(after) + ")");
        }
    }

    private void checkIteration(HashIndex idx, long iterationSeed, Check c) {
        Map<Long, byte[]> seen = new HashMap<>();
        for (Iterator<Map.Entry<byte[], byte[]>> it = idx.iterator(new SplittableRandom(iterationSeed)); it.hasNext(); ) {
            Map.Entry<byte[], byte[]> e = it.next();
            long id = workload.id(e.getKey());
            if (id < 0) {
                c.invariant("iteration returned a key the workload never writes: " + hex(e.getKey()));
            } else if (seen.put(id, e.getValue()) != null) {
                c.invariant("iteration returned key " + id + " twice");
            }
        }
        compareWithLive(seen, "iteration", c::loss);
    }

    /** Reports every difference between {@code found} (key id to value, consumed) and the live keys. */
    private void compareWithLive(Map<Long, byte[]> found, String source, Consumer<String> report) {
        for (Map.Entry<Long, Long> e : live.entrySet()) {
            byte[] expected = workload.value(e.getKey(), e.getValue());
            byte[] actual = found.remove(e.getKey());
            if (!Arrays.equals(actual, expected)) {
                report.accept("key " + e.getKey() + ": " + source + " returned " + hex(actual) + ", expected "
                        + hex(expected) + " (put by operation " + e.getValue() + ")");
            }
        }
        for (long id : found.keySet()) {
            report.accept("key " + id + ": " + source + " returned it, but it was removed (or never put)");
        }
    }

    private static void checkVerify(HashIndex idx, long leakAllowance, Check c) {
        for (String problem : idx.verify()) {
            Matcher m = LEAK_DRIFT.matcher(problem);
            if (m.matches() && Long.parseLong(m.group(1)) > Long.parseLong(m.group(2))) {
                c.countDrift += Long.parseLong(m.group(1)) - Long.parseLong(m.group(2));
            } else if (TORN_HEADER_COPY.matcher(problem).matches()) {
                c.tornHeaderCopy = true;
            } else {
                c.invariant("verify: " + problem);
            }
        }
        if (c.countDrift > leakAllowance) {
            c.invariant("the header counts " + c.countDrift + " cells more than the structures hold; kills may leak at most "
                    + leakAllowance + " on this file");
        }
    }

    private static String hex(byte[] b) {
        return b == null ? "absent" : "[" + b.length + " bytes] " + HexFormat.of().formatHex(b);
    }
}
