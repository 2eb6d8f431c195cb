package io.hashidx.bench.report;

import com.google.gson.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedMethod;
import jdk.jfr.consumer.RecordingFile;

/**
 * Attributes the slow windows of a put-latency series ({@code bench/run --stalls}): for each window of
 * puts whose largest put took at least the threshold, what the putting thread was doing instead of
 * running the store's code. The kernel trace ({@code KernelTrace}) says when the thread left its CPU,
 * in which state (preempted while runnable, sleeping, waiting for I/O), which thread ran instead and
 * the thread's kernel stack, and which of its slow system calls ran; the fork's JFR recording says what
 * the JVM did meanwhile (compilations, deoptimizations, safepoints, collections). The CPU time the
 * kernel charged the thread ({@code sched_stat_runtime}, which leaves out what a hypervisor steals from
 * a virtual machine's CPU) tells a thread that ran from one whose virtual CPU did not. A window with
 * none of these longer than half its largest put is the put's own time on the CPU: the store's code,
 * or page faults, which the kernel serves on the thread's own time.
 */
public final class Stalls {
    /** The thread left its CPU at {@code startNs} (mono clock) for {@code durationNs}. */
    record OffCpu(long startNs, long durationNs, char state, String ranInstead, List<String> stack) {
    }

    /** One system call of the thread, entry to exit. */
    record Syscall(String name, long startNs, long durationNs) {
    }

    /** A JVM event, on the mono clock once lined up ({@link #onMono}). */
    record JvmEvent(String kind, long startNs, long durationNs, String what) {
        JvmEvent onMono(long epochMinusMono) {
            return new JvmEvent(kind, startNs - epochMinusMono, durationNs, what);
        }
    }

    /** Puts {@code fromPuts} to {@code toPuts}, from {@code fromNs} to {@code toNs} (mono), the largest taking {@code maxNs}. */
    record Window(long fromPuts, long toPuts, long fromNs, long toNs, long maxNs) {
    }

    /** A window and what overlapped it. */
    record Attribution(Window window, List<OffCpu> offCpu, List<Syscall> syscalls, List<Stolen> stolen, List<JvmEvent> jvm,
                       List<Sample> samples, String verdict) {
    }

    /** The thread stayed on its CPU from {@code startNs} for {@code durationNs}, but was charged only {@code runNs} of it. */
    record Stolen(long startNs, long durationNs, long runNs) {
        long stolenNs() {
            return durationNs - runNs;
        }
    }

    /** Where a thread left its CPU, until the switch that brings it back closes it into an {@link OffCpu}. */
    private record Left(long startNs, char state, String ranInstead, List<String> stack) {
    }

    /** A CPU sample of the thread ({@code perf record -e cpu-clock}): its stack, innermost frame first. */
    record Sample(long timeNs, boolean kernel, List<String> frames) {
    }

    /** The off-CPU intervals, system calls and stolen time of some threads, read from a kernel trace's text. */
    record Trace(Map<Long, List<OffCpu>> offCpu, Map<Long, List<Syscall>> syscalls, Map<Long, List<Stolen>> stolen,
                 long lostEvents, boolean present, long completeFromNs) {
        /** No kernel trace was recorded. */
        static Trace none() {
            return new Trace(Map.of(), Map.of(), Map.of(), 0, false, Long.MIN_VALUE);
        }

        List<Stolen> stolen(long tid) {
            return stolen.getOrDefault(tid, List.of());
        }

        List<OffCpu> offCpu(long tid) {
            return offCpu.getOrDefault(tid, List.of());
        }

        List<Syscall> syscalls(long tid) {
            return syscalls.getOrDefault(tid, List.of());
        }
    }

    private static final Pattern EVENT = Pattern.compile("^\\s*(.+?)-(\\d+)\\s+\\[(\\d+)]\\s+(?:\\S+\\s+)?(\\d+)\\.(\\d+): (.*)$");
    private static final Pattern SWITCH = Pattern.compile(
            "^sched_switch: prev_comm=(.*) prev_pid=(\\d+) prev_prio=-?\\d+ prev_state=(\\S+) ==> next_comm=(.*) next_pid=(\\d+) next_prio=-?\\d+$");
    /** The trace's header: events kept / events written; fewer kept means the ring buffer overwrote some. */
    private static final Pattern BUFFER = Pattern.compile("^# entries-in-buffer/entries-written: (\\d+)/(\\d+).*$");
    private static final Pattern SYS_ENTER = Pattern.compile("^sys_(\\w+)\\(.*$");
    private static final Pattern SYS_EXIT = Pattern.compile("^sys_(\\w+) -> .*$");
    private static final Pattern RUNTIME = Pattern.compile("^sched_stat_runtime: comm=.* pid=(\\d+) runtime=(\\d+) \\[ns].*$");
    private static final Map<String, String> KERNEL_WORK = Map.of("mm_vmscan_direct_reclaim_begin", "direct reclaim",
            "mm_vmscan_direct_reclaim_end", "direct reclaim", "mm_compaction_begin", "compaction",
            "mm_compaction_end", "compaction");
    /** Charged CPU time between two updates this much short of the time between them is steal (not tick jitter). */
    private static final long STEAL_SLACK_NS = 200_000;
    private static final Set<String> SCHEDULER_FRAMES = Set.of("trace_event_raw_event_sched_switch",
            "__traceiter_sched_switch", "__schedule", "schedule", "__probestub_sched_switch");
    private static final int STACK_FRAMES = 6;

    private Stalls() {
    }

    /** Reads the off-CPU intervals and system calls of the threads {@code tids} from a kernel trace's text. */
    static Trace readTrace(BufferedReader in, Set<Long> tids) throws IOException {
        Map<Long, List<OffCpu>> off = new HashMap<>();
        Map<Long, List<Syscall>> calls = new HashMap<>();
        Map<Long, Left> leftAt = new HashMap<>();
        Map<Long, Long> stackOwner = new HashMap<>(); // cpu -> tid whose stack lines follow
        Map<String, Long> entered = new HashMap<>();
        Map<Long, List<Stolen>> stolen = new HashMap<>();
        Map<Long, Long> lastCharge = new HashMap<>(); // tid -> time of its last runtime update while on its CPU
        long lastCpu = -1;
        long lost = 0;
        Map<Long, Long> firstOnCpu = new HashMap<>();
        String line;
        while ((line = in.readLine()) != null) {
            Matcher header = BUFFER.matcher(line);
            if (header.matches()) {
                lost = Long.parseLong(header.group(2)) - Long.parseLong(header.group(1));
                continue;
            }
            if (line.startsWith(" => ")) {
                Long tid = stackOwner.get(lastCpu);
                Left open = tid == null ? null : leftAt.get(tid);
                String frame = line.substring(4).trim();
                if (open != null && !SCHEDULER_FRAMES.contains(frame) && open.stack().size() < STACK_FRAMES) {
                    open.stack().add(frame);
                }
                continue;
            }
            Matcher e = EVENT.matcher(line);
            if (!e.matches()) {
                continue;
            }
            long pid = Long.parseLong(e.group(2));
            long cpu = Long.parseLong(e.group(3));
            long t = nanos(e.group(4), e.group(5));
            firstOnCpu.putIfAbsent(cpu, t);
            String body = e.group(6);
            lastCpu = cpu;
            if (body.startsWith("<stack trace>")) {
                if (tids.contains(pid)) {
                    stackOwner.put(cpu, pid);
                } else {
                    stackOwner.remove(cpu);
                }
                continue;
            }
            stackOwner.remove(cpu);
            Matcher s = SWITCH.matcher(body);
            if (s.matches()) {
                long prev = Long.parseLong(s.group(2));
                long next = Long.parseLong(s.group(5));
                if (tids.contains(prev)) {
                    leftAt.put(prev, new Left(t, s.group(3).charAt(0), s.group(4), new ArrayList<>()));
                    lastCharge.remove(prev);
                }
                if (tids.contains(next)) {
                    lastCharge.put(next, t);
                }
                Left open = tids.contains(next) ? leftAt.remove(next) : null;
                if (open != null) {
                    off.computeIfAbsent(next, k -> new ArrayList<>()).add(new OffCpu(open.startNs(), t - open.startNs(),
                            open.state(), open.ranInstead(), List.copyOf(open.stack())));
                }
                continue;
            }
            Matcher run = RUNTIME.matcher(body);
            if (run.matches()) {
                long tid = Long.parseLong(run.group(1));
                Long since = tids.contains(tid) ? lastCharge.put(tid, t) : null;
                long charged = Long.parseLong(run.group(2));
                if (since != null && t - since - charged > STEAL_SLACK_NS) {
                    stolen.computeIfAbsent(tid, k -> new ArrayList<>()).add(new Stolen(since, t - since, charged));
                }
                continue;
            }
            if (!tids.contains(pid)) {
                continue;
            }
            int colon = body.indexOf(':');
            String event = colon > 0 ? body.substring(0, colon) : "";
            String work = KERNEL_WORK.get(event);
            if (work != null) {
                if (event.endsWith("_begin")) {
                    entered.put(pid + " " + work, t);
                } else {
                    ended(entered, calls, pid, work, t);
                }
                continue;
            }
            Matcher exit = SYS_EXIT.matcher(body);
            if (exit.matches()) {
                ended(entered, calls, pid, exit.group(1), t);
                continue;
            }
            Matcher enter = SYS_ENTER.matcher(body);
            if (enter.matches()) {
                entered.put(pid + " " + enter.group(1), t);
            }
        }
        // Each CPU's ring buffer drops its own oldest events: before the latest CPU's first kept event,
        // switches on that CPU are missing and intervals would pair wrongly.
        long completeFrom = lost > 0 ? firstOnCpu.values().stream().mapToLong(Long::longValue).max().orElse(Long.MIN_VALUE)
                : Long.MIN_VALUE;
        return new Trace(off, calls, stolen, lost, true, completeFrom);
    }

    /** A system call or the kernel's work named {@code name} ended at {@code t}: one {@link Syscall} if its start was seen. */
    private static void ended(Map<String, Long> entered, Map<Long, List<Syscall>> calls, long pid, String name, long t) {
        Long start = entered.remove(pid + " " + name);
        if (start != null) {
            calls.computeIfAbsent(pid, k -> new ArrayList<>()).add(new Syscall(name, start, t - start));
        }
    }

    private static final Pattern SAMPLE = Pattern.compile("^\\s*(\\d+)\\s+(\\d+)\\.(\\d+):.*$");
    private static final Pattern FRAME = Pattern.compile("^\\s+([0-9a-f]+) (.+?)(?: \\(.*\\))?$");

    /** Reads {@code perf script -F tid,time,ip,sym --ns} text: each thread's samples, in time order. */
    static Map<Long, List<Sample>> readSamples(BufferedReader in, Set<Long> tids) throws IOException {
        Map<Long, List<Sample>> out = new HashMap<>();
        long tid = -1;
        long time = 0;
        List<String> frames = null;
        boolean kernel = false;
        String line;
        while ((line = in.readLine()) != null) {
            Matcher h = SAMPLE.matcher(line);
            if (h.matches()) {
                if (frames != null) {
                    out.computeIfAbsent(tid, k -> new ArrayList<>()).add(new Sample(time, kernel, List.copyOf(frames)));
                }
                tid = Long.parseLong(h.group(1));
                time = nanos(h.group(2), h.group(3));
                frames = tids.contains(tid) ? new ArrayList<>() : null;
                kernel = false;
                continue;
            }
            Matcher f = frames == null ? null : FRAME.matcher(line);
            if (f != null && f.matches()) {
                if (frames.isEmpty()) {
                    kernel = f.group(1).startsWith("ffff");
                }
                if (frames.size() < 12) {
                    frames.add(f.group(2));
                }
            }
        }
        if (frames != null) {
            out.computeIfAbsent(tid, k -> new ArrayList<>()).add(new Sample(time, kernel, List.copyOf(frames)));
        }
        return out;
    }

    /** "11 samples: 9 in the kernel (page faults 9; innermost: clear_page_erms 6), 2 in user code"; empty without samples. */
    static String samplesSummary(List<Sample> samples) {
        if (samples.isEmpty()) {
            return "";
        }
        long kernel = samples.stream().filter(Sample::kernel).count();
        long faults = samples.stream().filter(x -> x.kernel() && x.frames().stream().anyMatch(f -> f.contains("exc_page_fault")))
                .count();
        long calls = samples.stream().filter(x -> x.kernel() && x.frames().stream().anyMatch(f -> f.startsWith("entry_SYSCALL")))
                .count();
        Map<String, Long> innermost = new HashMap<>();
        samples.stream().filter(Sample::kernel).forEach(x -> innermost.merge(x.frames().isEmpty() ? "?" : x.frames().get(0), 1L, Long::sum));
        String top = innermost.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(2)
                .map(e -> e.getKey() + " " + e.getValue()).reduce((a, b) -> a + ", " + b).orElse("");
        return samples.size() + " CPU samples: " + kernel + " in the kernel"
                + (kernel > 0 ? " (page faults " + faults + ", system calls " + calls + "; innermost: " + top + ")" : "")
                + ", " + (samples.size() - kernel) + " in user code";
    }

    /** "1795696045.605871" (seconds, any number of fraction digits up to 9) in nanoseconds. */
    static long nanos(String seconds, String fraction) {
        String f = (fraction + "000000000").substring(0, 9);
        return Long.parseLong(seconds) * 1_000_000_000L + Long.parseLong(f);
    }

    /** The compilations, deoptimizations, safepoints and collections of a JFR recording, on the wall clock. */
    static List<JvmEvent> readJfr(Path jfr) throws IOException {
        List<JvmEvent> events = new ArrayList<>();
        Map<Long, Long> safepointStart = new HashMap<>();
        Map<Long, Long> safepointEnd = new HashMap<>();
        for (RecordedEvent e : RecordingFile.readAllEvents(jfr)) {
            Instant at = e.getStartTime();
            long start = at.getEpochSecond() * 1_000_000_000L + at.getNano();
            long duration = e.getDuration().toNanos();
            switch (e.getEventType().getName()) {
                case "jdk.Compilation" -> events.add(new JvmEvent("compile", start, duration,
                        (e.hasField("compiler") ? e.getString("compiler").toUpperCase(Locale.ROOT) + " " : "")
                                + "compiles " + method(e.getValue("method"))
                                + (e.hasField("isOsr") && e.getBoolean("isOsr") ? " (OSR)" : "")));
                case "jdk.Deoptimization" -> events.add(new JvmEvent("deopt", start, duration,
                        "deoptimizes " + method(e.getValue("method")) + " (" + e.getString("reason") + ", "
                                + e.getString("action") + ")"));
                // a safepoint's pause runs from its begin (reaching it) to its end (after the VM operation)
                case "jdk.SafepointBegin" -> safepointStart.put(e.getLong("safepointId"), start);
                case "jdk.SafepointEnd" -> safepointEnd.put(e.getLong("safepointId"), start + duration);
                case "jdk.GarbageCollection" -> events.add(new JvmEvent("gc", start,
                        e.hasField("sumOfPauses") ? e.getDuration("sumOfPauses").toNanos() : duration,
                        "GC " + e.getString("name") + " (" + e.getString("cause") + ")"));
                default -> {
                }
            }
        }
        safepointStart.forEach((id, begin) -> {
            Long end = safepointEnd.get(id);
            if (end != null) {
                events.add(new JvmEvent("safepoint", begin, end - begin, "safepoint " + id));
            }
        });
        return events;
    }

    private static String method(Object m) {
        if (m instanceof RecordedMethod rm) {
            String type = rm.getType().getName();
            return type.substring(type.lastIndexOf('.') + 1) + "." + rm.getName();
        }
        return "?";
    }

    /** The windows of a series CSV (entries, elapsed_ms, max_ns, ...) whose largest put took at least {@code thresholdNs}. */
    static List<Window> slowWindows(List<String> csv, long startMonoNs, long thresholdNs) {
        List<Window> out = new ArrayList<>();
        long prevPuts = 0;
        long prevNs = 0;
        for (String row : csv.subList(Math.min(1, csv.size()), csv.size())) {
            if (row.isBlank()) {
                continue;
            }
            String[] c = row.split(",");
            long puts = Long.parseLong(c[0]);
            long endNs = Math.round(Double.parseDouble(c[1]) * 1e6);
            long max = Long.parseLong(c[2]);
            if (max >= thresholdNs) {
                out.add(new Window(prevPuts, puts, startMonoNs + prevNs, startMonoNs + endNs, max));
            }
            prevPuts = puts;
            prevNs = endNs;
        }
        return out;
    }

    /** {@link #attribute(Window, Trace, long, List, List)} for one thread's intervals given as lists, without samples. */
    static Attribution attribute(Window w, List<OffCpu> offCpu, List<Syscall> syscalls, List<JvmEvent> jvmOnMono) {
        return attribute(w, new Trace(Map.of(0L, offCpu), Map.of(0L, syscalls), Map.of(), 0, true, Long.MIN_VALUE), 0L,
                jvmOnMono, List.of());
    }

    /**
     * What overlapped {@code w} in the recordings of thread {@code tid}, and the verdict: the one thing whose
     * part inside the window took at least half the window's largest put. A JVM pause comes first (a thread
     * stopped for a safepoint sleeps on a futex), then the thread's time off its CPU, its slow system calls,
     * stolen time; else its own time on its CPU, which only a kernel trace can say.
     */
    static Attribution attribute(Window w, Trace trace, long tid, List<JvmEvent> jvmOnMono, List<Sample> allSamples) {
        List<Sample> samples = allSamples.stream().filter(x -> x.timeNs() >= w.fromNs() && x.timeNs() <= w.toNs()).toList();
        List<OffCpu> off = trace.offCpu(tid).stream().filter(o -> overlap(w, o.startNs(), o.durationNs()) > 0).toList();
        List<Syscall> calls = trace.syscalls(tid).stream().filter(c -> overlap(w, c.startNs(), c.durationNs()) > 0).toList();
        List<Stolen> stolen = trace.stolen(tid).stream().filter(x -> overlap(w, x.startNs(), x.durationNs()) > 0).toList();
        List<JvmEvent> jvm = jvmOnMono.stream()
                .filter(j -> j.startNs() < w.toNs() && j.startNs() + Math.max(j.durationNs(), 1) > w.fromNs()).toList();
        long half = w.maxNs() / 2;
        String verdict = null;
        if (trace.present() && w.fromNs() < trace.completeFromNs()) {
            verdict = "not attributed: the kernel trace's buffer overran and lost the events of this time";
        }
        if (verdict == null) {
            JvmEvent pause = mostInside(jvm.stream().filter(j -> j.kind().equals("safepoint") || j.kind().equals("gc"))
                    .toList(), j -> overlap(w, j.startNs(), j.durationNs()));
            long paused = pause == null ? 0 : overlap(w, pause.startNs(), pause.durationNs());
            if (paused >= half && pause != null) {
                verdict = pause.what() + " for " + ms(paused);
            }
        }
        OffCpu longest = mostInside(off, o -> overlap(w, o.startNs(), o.durationNs()));
        long away = longest == null ? 0 : overlap(w, longest.startNs(), longest.durationNs());
        if (verdict == null && longest != null && away >= half) {
            String stack = String.join(" ", longest.stack());
            verdict = switch (longest.state()) {
                case 'R' -> (stack.contains("sched_yield") ? "yielded its CPU: " : "preempted: ") + who(longest.ranInstead())
                        + " ran on its CPU for " + ms(away);
                case 'D' -> (stack.contains("io_schedule") ? "waited for I/O for " : "waited, uninterruptibly, for ")
                        + ms(away) + " (" + frames(longest.stack()) + ")";
                default -> "slept for " + ms(away) + " (" + sleepReason(longest.stack()) + ")";
            };
        }
        if (verdict == null) {
            Syscall slow = mostInside(calls, c -> overlap(w, c.startNs(), c.durationNs()));
            long in = slow == null ? 0 : overlap(w, slow.startNs(), slow.durationNs());
            if (slow != null && in >= half) {
                verdict = "in " + name(slow) + " for " + ms(in);
            }
        }
        if (verdict == null) {
            // stolen time is spread over the interval between two charges; count the window's share of it
            Stolen most = mostInside(stolen, x -> stolenIn(w, x));
            if (most != null && stolenIn(w, most) >= half) {
                verdict = "its virtual CPU did not run: of " + ms(most.durationNs()) + " on its CPU the kernel charged it "
                        + ms(most.runNs()) + " (steal: the hypervisor ran something else)";
            }
        }
        if (verdict == null && !trace.present()) {
            verdict = "not attributed: no kernel trace (JFR saw no pause that long)";
        }
        if (verdict == null) {
            String perf = samplesSummary(samples);
            verdict = "on its CPU: the put's own time (the store's code, or page faults the kernel serves on the thread's time)"
                    + (perf.isEmpty() ? "" : "; " + perf);
        }
        return new Attribution(w, off, calls, stolen, jvm, samples, verdict);
    }

    /** The item with the most time inside the window by {@code inside}, or null for none. */
    private static <T> T mostInside(List<T> items, java.util.function.ToLongFunction<T> inside) {
        return items.stream().max(Comparator.comparingLong(inside)).orElse(null);
    }

    private static long stolenIn(Window w, Stolen x) {
        return x.durationNs() == 0 ? 0 : x.stolenNs() * overlap(w, x.startNs(), x.durationNs()) / x.durationNs();
    }

    /** How much of {@code [start, start + duration)} lies in the window. */
    static long overlap(Window w, long start, long duration) {
        return Math.max(0, Math.min(w.toNs(), start + duration) - Math.max(w.fromNs(), start));
    }

    /** "fallocate(2)" for a system call, "direct reclaim" for the kernel's own work. */
    private static String name(Syscall c) {
        return KERNEL_WORK.containsValue(c.name()) ? c.name() : c.name() + "(2)";
    }

    private static String who(String comm) {
        if (comm.startsWith("C1 CompilerThre") || comm.startsWith("C2 CompilerThre")) {
            return "the JIT compiler (" + comm.substring(0, 2) + " compiler thread)";
        }
        if (comm.startsWith("swapper")) {
            return "nothing (idle)";
        }
        return "`" + comm + "`";
    }

    private static String sleepReason(List<String> stack) {
        String all = String.join(" ", stack);
        if (all.contains("sigsuspend")) {
            return "suspended by a signal: a JFR or JVM thread sampling it";
        }
        if (all.contains("futex")) {
            return "futex: a lock, or the JVM stopping it";
        }
        return stack.isEmpty() ? "no stack recorded" : frames(stack);
    }

    private static String frames(List<String> stack) {
        return stack.isEmpty() ? "no stack recorded" : String.join(" < ", stack.subList(0, Math.min(3, stack.size())));
    }

    static String ms(long nanos) {
        return String.format(Locale.ROOT, "%.2f ms", nanos / 1e6);
    }

    /** The attributions of one results directory: every slow window of every measured insert that has its recordings. */
    record Insert(JsonObject metrics, List<Attribution> windows) {
    }

    /**
     * Reads {@code dir/stalls/}: for each put-latency line of {@code metrics} that carries its thread id
     * and start times and whose run has a trace or a JFR recording there, the windows at or over
     * {@code thresholdNs}, attributed. Empty when the run was not made with {@code --stalls}.
     */
    static List<Insert> attributeAll(Path dir, List<JsonObject> metrics, long thresholdNs) {
        Path stalls = dir.resolve("stalls");
        if (!Files.isDirectory(stalls)) {
            return List.of();
        }
        Map<String, Trace> traces = new HashMap<>();
        Map<String, Map<Long, List<Sample>>> samples = new HashMap<>();
        Map<Path, List<JvmEvent>> jfrs = new HashMap<>();
        List<Insert> out = new ArrayList<>();
        for (JsonObject m : metrics) {
            if (!m.has("tid") || !m.has("start_mono_ns") || !m.has("run") || m.get("tid").getAsLong() < 0) {
                continue;
            }
            String run = m.get("run").getAsString();
            long tid = m.get("tid").getAsLong();
            Path traceFile = stalls.resolve(run + ".trace");
            Path jfr = stalls.resolve(run + "-" + m.get("pid").getAsLong() + ".jfr");
            if (!Files.exists(traceFile) && !Files.exists(jfr)) {
                continue;
            }
            Map<Long, List<Sample>> cpuSamples = samples.computeIfAbsent(run, r -> readSamplesOrEmpty(
                    stalls.resolve(run + ".perf.txt"), tidsOf(metrics, run)));
            Trace trace = traces.computeIfAbsent(run, r -> Files.exists(traceFile) ? read(traceFile, tidsOf(metrics, run))
                    : Trace.none());
            long epochMinusMono = m.get("start_epoch_ns").getAsLong() - m.get("start_mono_ns").getAsLong();
            List<JvmEvent> jvm = jfrs.computeIfAbsent(jfr, Stalls::readJfrOrEmpty).stream()
                    .map(j -> j.onMono(epochMinusMono)).toList();
            List<String> csv;
            try {
                csv = Files.readAllLines(dir.resolve(m.get("series").getAsString()), StandardCharsets.UTF_8);
            } catch (IOException e) {
                continue;
            }
            List<Attribution> windows = new ArrayList<>();
            for (Window w : slowWindows(csv, m.get("start_mono_ns").getAsLong(), thresholdNs)) {
                Attribution a = attribute(w, trace, tid, jvm, cpuSamples.getOrDefault(tid, List.of()));
                if (trace.lostEvents() > 0 && !a.verdict().startsWith("not attributed")) {
                    a = new Attribution(a.window(), a.offCpu(), a.syscalls(), a.stolen(), a.jvm(), a.samples(),
                            a.verdict() + String.format(Locale.ROOT, " (the kernel trace lost %,d events, before this window)",
                                    trace.lostEvents()));
                }
                windows.add(a);
            }
            out.add(new Insert(m, windows));
        }
        return out;
    }

    private static Set<Long> tidsOf(List<JsonObject> metrics, String run) {
        Set<Long> tids = new java.util.HashSet<>();
        for (JsonObject m : metrics) {
            if (m.has("tid") && m.has("run") && m.get("run").getAsString().equals(run)) {
                tids.add(m.get("tid").getAsLong());
            }
        }
        return tids;
    }

    private static Trace read(Path traceFile, Set<Long> tids) {
        try (BufferedReader in = Files.newBufferedReader(traceFile, StandardCharsets.ISO_8859_1)) {
            return readTrace(in, tids);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Map<Long, List<Sample>> readSamplesOrEmpty(Path file, Set<Long> tids) {
        if (!Files.exists(file)) {
            return Map.of();
        }
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.ISO_8859_1)) {
            return readSamples(in, tids);
        } catch (IOException e) {
            System.err.println("Stalls: cannot read " + file + ": " + e);
            return Map.of();
        }
    }

    private static List<JvmEvent> readJfrOrEmpty(Path jfr) {
        if (!Files.exists(jfr)) {
            return List.of();
        }
        try {
            return readJfr(jfr);
        } catch (IOException e) {
            System.err.println("Stalls: cannot read " + jfr + ": " + e);
            return List.of();
        }
    }

    /** The Markdown of {@code stalls.md}: every slow window of every insert, with what overlapped it. */
    static String markdown(List<Insert> inserts, long thresholdNs) {
        StringBuilder sb = new StringBuilder();
        sb.append("# Put-latency stalls, attributed\n\n");
        sb.append("Every window of the put-latency series whose largest put took at least ").append(ms(thresholdNs))
                .append(", with what overlapped it: the putting thread's time off its CPU (kernel trace: R = preempted while "
                        + "runnable, S = sleeping, D = an uninterruptible wait, for I/O when the stack says so; who ran instead; its kernel stack), its slow system "
                        + "calls and the kernel's memory work on its time, time a hypervisor took from its virtual CPU (steal), and the JVM's compilations, deoptimizations, safepoints and collections (JFR). The verdict "
                        + "names the one thing that took at least half the largest put, if any.\n\n");
        for (Insert in : inserts) {
            JsonObject m = in.metrics();
            sb.append("## ").append(m.get("peer").getAsString()).append(", fork ").append(m.get("pid").getAsLong())
                    .append(", insert ").append(m.get("iteration").getAsInt()).append(": max ")
                    .append(ms(m.get("max_ns").getAsLong())).append("\n\n");
            if (in.windows().isEmpty()) {
                sb.append("No window at or over ").append(ms(thresholdNs)).append(".\n\n");
                continue;
            }
            for (Attribution a : in.windows()) {
                Window w = a.window();
                sb.append(String.format(Locale.ROOT, "- puts %,d-%,d, max %s: **%s**%n", w.fromPuts(), w.toPuts(),
                        ms(w.maxNs()), a.verdict()));
                for (OffCpu o : a.offCpu()) {
                    if (o.durationNs() >= 100_000) {
                        sb.append(String.format(Locale.ROOT, "  - off CPU %s, %s, ran instead: %s%s%n", ms(o.durationNs()),
                                o.state(), o.ranInstead(), o.stack().isEmpty() ? "" : "; stack: " + frames(o.stack())));
                    }
                }
                for (Syscall c : a.syscalls()) {
                    if (c.durationNs() >= 100_000) {
                        sb.append("  - ").append(name(c)).append(' ').append(ms(c.durationNs())).append('\n');
                    }
                }
                for (Stolen x : a.stolen()) {
                    sb.append("  - steal: on its CPU ").append(ms(x.durationNs())).append(", charged ").append(ms(x.runNs()))
                            .append('\n');
                }
                if (!a.samples().isEmpty() && !a.verdict().contains("CPU samples")) {
                    sb.append("  - perf: ").append(samplesSummary(a.samples())).append('\n');
                }
                for (JvmEvent j : a.jvm()) {
                    sb.append("  - JVM: ").append(j.what()).append(j.durationNs() > 0 ? ", " + ms(j.durationNs()) : "")
                            .append('\n');
                }
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /** The largest window of an insert (the one holding its max), or null when none reached the threshold. */
    static Attribution largest(Insert in) {
        return in.windows().stream().max(Comparator.comparingLong(a -> a.window().maxNs())).orElse(null);
    }
}
