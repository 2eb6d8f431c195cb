package io.hashidx.bench.report;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import java.io.BufferedReader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import jdk.jfr.Recording;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StallsTest {
    private static final String TRACE = """
            # tracer: nop
             io.hashidx.benc-100     [001] d..2. 50.000100: sched_switch: prev_comm=io.hashidx.benc prev_pid=100 prev_prio=120 prev_state=R ==> next_comm=C2 CompilerThre next_pid=7 next_prio=120
             io.hashidx.benc-100     [001] d..2. 50.000105: <stack trace>
             => trace_event_raw_event_sched_switch
             => __traceiter_sched_switch
             => __schedule
             => schedule
             => irqentry_exit_to_user_mode
             => asm_sysvec_apic_timer_interrupt
             C2 CompilerThre-7       [001] d..2. 50.004100: sched_switch: prev_comm=C2 CompilerThre prev_pid=7 prev_prio=120 prev_state=S ==> next_comm=io.hashidx.benc next_pid=100 next_prio=120
             C2 CompilerThre-7       [000] d..2. 50.004200: <stack trace>
             => futex_wait
             io.hashidx.benc-100     [001] ..... 50.010000: sys_fallocate(fd: 0x44, mode: 0, offset: 0xa01000, len: 0x40000)
             io.hashidx.benc-100     [001] ..... 50.012500: sys_fallocate -> 0x0
             io.hashidx.benc-100     [001] d..2. 50.020000: sched_switch: prev_comm=io.hashidx.benc prev_pid=100 prev_prio=120 prev_state=S ==> next_comm=swapper/1 next_pid=0 next_prio=120
             io.hashidx.benc-100     [001] d..2. 50.020001: <stack trace>
             => __schedule
             => schedule
             => futex_do_wait
             => __futex_wait
             => do_futex
            <idle>-0       [000] d..2. 50.023000: sched_switch: prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=io.hashidx.benc next_pid=100 next_prio=120
             other-200     [000] d..2. 50.030000: sched_switch: prev_comm=other prev_pid=200 prev_prio=120 prev_state=D ==> next_comm=swapper/0 next_pid=0 next_prio=120
             other-200     [000] d..2. 50.031000: sched_switch: prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=other next_pid=200 next_prio=120
            """;

    private static Stalls.Trace trace() throws Exception {
        return Stalls.readTrace(new BufferedReader(new StringReader(TRACE)), Set.of(100L));
    }

    @Test
    void readsWhenTheThreadLeftItsCpuHowAndWhoRanInstead() throws Exception {
        Stalls.Trace t = trace();
        assertThat(t.offCpu(100)).containsExactly(
                new Stalls.OffCpu(50_000_100_000L, 4_000_000L, 'R', "C2 CompilerThre",
                        List.of("irqentry_exit_to_user_mode", "asm_sysvec_apic_timer_interrupt")),
                new Stalls.OffCpu(50_020_000_000L, 3_000_000L, 'S', "swapper/1", List.of("futex_do_wait", "__futex_wait",
                        "do_futex")));
        assertThat(t.syscalls(100)).containsExactly(new Stalls.Syscall("fallocate", 50_010_000_000L, 2_500_000L));
        assertThat(t.offCpu(200)).as("threads not asked for are not kept").isEmpty();
        assertThat(t.lostEvents()).isZero();
        String lossy = "# entries-in-buffer/entries-written: 66350/70000   #P:2\n" + TRACE;
        assertThat(Stalls.readTrace(new BufferedReader(new StringReader(lossy)), Set.of(100L)).lostEvents()).isEqualTo(3650);
    }

    @Test
    void timeOnItsCpuTheKernelDidNotChargeIsStealAndMemoryWorkCountsAsKernelWork() throws Exception {
        String trace = """
                 <idle>-0       [001] d..2. 10.000000: sched_switch: prev_comm=swapper/1 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=io.hashidx.benc next_pid=100 next_prio=120
                 io.hashidx.benc-100     [001] d.h2. 10.004000: sched_stat_runtime: comm=io.hashidx.benc pid=100 runtime=3990000 [ns]
                 io.hashidx.benc-100     [001] d.h2. 10.016000: sched_stat_runtime: comm=io.hashidx.benc pid=100 runtime=1000000 [ns]
                 io.hashidx.benc-100     [001] ..... 10.017000: mm_compaction_begin: zone_start=0x1 migrate_pfn=0x1 free_pfn=0x2 zone_end=0x3, mode=sync
                 io.hashidx.benc-100     [001] ..... 10.019500: mm_compaction_end: zone_start=0x1 migrate_pfn=0x1 free_pfn=0x2 zone_end=0x3, mode=sync status=complete
                 io.hashidx.benc-100     [001] d.h2. 10.020000: sched_stat_runtime: comm=io.hashidx.benc pid=100 runtime=3900000 [ns]
                 io.hashidx.benc-100     [001] d..2. 10.021000: sched_switch: prev_comm=io.hashidx.benc prev_pid=100 prev_prio=120 prev_state=S ==> next_comm=swapper/1 next_pid=0 next_prio=120
                 other-7     [000] d.h2. 10.022000: sched_stat_runtime: comm=other pid=7 runtime=1 [ns]
                """;
        Stalls.Trace t = Stalls.readTrace(new BufferedReader(new StringReader(trace)), Set.of(100L));
        assertThat(t.stolen(100)).as("the 4 ms ticks are charged in full; 12 ms charged 1 ms").containsExactly(
                new Stalls.Stolen(10_004_000_000L, 12_000_000L, 1_000_000L));
        assertThat(t.syscalls(100)).containsExactly(new Stalls.Syscall("compaction", 10_017_000_000L, 2_500_000L));
        Stalls.Window w = new Stalls.Window(0, 5000, 10_003_000_000L, 10_017_000_000L, 11_500_000);
        assertThat(Stalls.attribute(w, t, 100, List.of(), List.of()).verdict())
                .isEqualTo("its virtual CPU did not run: of 12.00 ms on its CPU the kernel charged it 1.00 ms"
                        + " (steal: the hypervisor ran something else)");
        Stalls.Window compacting = new Stalls.Window(0, 5000, 10_016_500_000L, 10_020_000_000L, 2_600_000);
        assertThat(Stalls.attribute(compacting, t, 100, List.of(), List.of()).verdict())
                .isEqualTo("in compaction for 2.50 ms");
    }

    @Test
    void cpuSamplesSayWhatAThreadThatStayedOnItsCpuRan() throws Exception {
        String perf = """
                  100 10.001000000:\s
                \tffffffff81a0b2c0 clear_page_erms
                \tffffffff8123f0d1 handle_mm_fault
                \tffffffff81c01234 asm_exc_page_fault
                \t    7f1234567890 [unknown] (/tmp/perf-42.map)

                  100 10.002000000:\s
                \t    7f1234567890 [unknown] (/tmp/perf-42.map)

                  300 10.002500000:\s
                \tffffffff81a0b2c0 clear_page_erms

                  100 10.003000000:\s
                \tffffffff81a0b2c0 clear_page_erms
                \tffffffff81c01234 asm_exc_page_fault
                """;
        var samples = Stalls.readSamples(new BufferedReader(new StringReader(perf)), Set.of(100L));
        assertThat(samples).containsOnlyKeys(100L);
        assertThat(samples.get(100L)).extracting(Stalls.Sample::timeNs).containsExactly(10_001_000_000L, 10_002_000_000L,
                10_003_000_000L);
        assertThat(samples.get(100L).get(0).frames()).containsExactly("clear_page_erms", "handle_mm_fault",
                "asm_exc_page_fault", "[unknown]");
        assertThat(Stalls.samplesSummary(samples.get(100L))).isEqualTo("3 CPU samples: 2 in the kernel (page faults 2,"
                + " system calls 0; innermost: clear_page_erms 2), 1 in user code");
        Stalls.Window w = new Stalls.Window(0, 5000, 10_000_000_000L, 10_002_500_000L, 2_000_000);
        Stalls.Trace noEvents = Stalls.readTrace(new BufferedReader(new StringReader("")), Set.of(100L));
        assertThat(Stalls.attribute(w, noEvents, 100, List.of(), samples.get(100L)).verdict())
                .endsWith("; 2 CPU samples: 1 in the kernel (page faults 1, system calls 0; innermost: clear_page_erms 1),"
                        + " 1 in user code");
    }

    @Test
    void aPauseOfTheJvmComesBeforeTheSleepItCauses() throws Exception {
        Stalls.Trace t = trace();
        Stalls.Window w = new Stalls.Window(0, 5000, 50_019_000_000L, 50_024_000_000L, 3_100_000);
        List<Stalls.JvmEvent> gc = List.of(new Stalls.JvmEvent("gc", 50_020_100_000L, 2_800_000, "GC G1New (G1 Evacuation Pause)"));
        assertThat(Stalls.attribute(w, t.offCpu(100), t.syscalls(100), gc).verdict())
                .isEqualTo("GC G1New (G1 Evacuation Pause) for 2.80 ms");
    }

    @Test
    void anUninterruptibleWaitIsIoOnlyWhenTheStackSaysSo() {
        Stalls.Window w = new Stalls.Window(0, 1, 0, 10_000_000, 4_000_000);
        assertThat(Stalls.attribute(w, List.of(new Stalls.OffCpu(1_000_000, 3_000_000, 'D', "swapper/0",
                List.of("rwsem_down_write_slowpath", "down_write"))), List.of(), List.of()).verdict())
                .isEqualTo("waited, uninterruptibly, for 3.00 ms (rwsem_down_write_slowpath < down_write)");
        assertThat(Stalls.attribute(w, List.of(new Stalls.OffCpu(1_000_000, 3_000_000, 'R', "other",
                List.of("do_sched_yield", "__do_sys_sched_yield"))), List.of(), List.of()).verdict())
                .isEqualTo("yielded its CPU: `other` ran on its CPU for 3.00 ms");
    }

    @Test
    void withoutAKernelTraceNothingIsClaimedAboutTheCpu(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("stalls"));
        Files.createDirectories(dir.resolve("latency"));
        Files.writeString(dir.resolve("latency/s.csv"), "entries,elapsed_ms,max_ns,p99_ns,p50_ns\n5000,5.000,4100000,1,1\n",
                StandardCharsets.UTF_8);
        Path jfr = dir.resolve("stalls/hashidx-insertFromEmptyLatency-42.jfr");
        try (Recording r = new Recording()) {
            r.enable("jdk.GarbageCollection");
            r.start();
            r.stop();
            r.dump(jfr);
        }
        List<Stalls.Insert> inserts = Stalls.attributeAll(dir, List.of(metrics()), 1_000_000);
        assertThat(Stalls.largest(inserts.get(0)).verdict()).startsWith("not attributed: no kernel trace");
    }

    @Test
    void windowsBeforeEveryCpuKeptItsEventsAreNotAttributed() throws Exception {
        String lossy = """
                # entries-in-buffer/entries-written: 9/90   #P:2
                 io.hashidx.benc-100     [001] d..2. 50.000100: sched_switch: prev_comm=io.hashidx.benc prev_pid=100 prev_prio=120 prev_state=S ==> next_comm=swapper/1 next_pid=0 next_prio=120
                <idle>-0       [000] d..2. 58.000000: sched_switch: prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=io.hashidx.benc next_pid=100 next_prio=120
                """;
        Stalls.Trace t = Stalls.readTrace(new BufferedReader(new StringReader(lossy)), Set.of(100L));
        assertThat(t.completeFromNs()).isEqualTo(58_000_000_000L);
        Stalls.Window early = new Stalls.Window(0, 5000, 55_000_000_000L, 55_005_000_000L, 3_000_000);
        assertThat(Stalls.attribute(early, t, 100, List.of(), List.of()).verdict()).startsWith("not attributed: the kernel"
                + " trace's buffer overran");
        Stalls.Window late = new Stalls.Window(0, 5000, 59_000_000_000L, 59_005_000_000L, 3_000_000);
        assertThat(Stalls.attribute(late, t, 100, List.of(), List.of()).verdict()).startsWith("on its CPU");
    }

    @Test
    void secondsWithAnyFractionAreNanoseconds() {
        assertThat(Stalls.nanos("1795696045", "605871")).isEqualTo(1_795_696_045_605_871_000L);
        assertThat(Stalls.nanos("3", "000000001")).isEqualTo(3_000_000_001L);
    }

    @Test
    void slowWindowsAreTheOnesAtOrOverTheThresholdOnTheMonoClock() {
        List<String> csv = List.of("entries,elapsed_ms,max_ns,p99_ns,p50_ns", "5000,2.000,300000,1000,500",
                "10000,6.500,2500000,1000,500", "15000,8.000,999999,1000,500", "");
        assertThat(Stalls.slowWindows(csv, 1_000_000_000L, 1_000_000)).containsExactly(
                new Stalls.Window(5000, 10000, 1_002_000_000L, 1_006_500_000L, 2_500_000));
    }

    @Test
    void eachVerdictNamesWhatTookAtLeastHalfTheLargestPut() throws Exception {
        Stalls.Trace t = trace();
        Stalls.Window preempted = new Stalls.Window(0, 5000, 50_000_000_000L, 50_005_000_000L, 4_100_000);
        assertThat(Stalls.attribute(preempted, t.offCpu(100), t.syscalls(100), List.of()).verdict())
                .isEqualTo("preempted: the JIT compiler (C2 compiler thread) ran on its CPU for 4.00 ms");
        Stalls.Window slept = new Stalls.Window(0, 5000, 50_019_000_000L, 50_024_000_000L, 3_100_000);
        assertThat(Stalls.attribute(slept, t.offCpu(100), t.syscalls(100), List.of()).verdict())
                .isEqualTo("slept for 3.00 ms (futex: a lock, or the JVM stopping it)");
        Stalls.Window inCall = new Stalls.Window(0, 5000, 50_009_000_000L, 50_013_000_000L, 2_600_000);
        assertThat(Stalls.attribute(inCall, t.offCpu(100), t.syscalls(100), List.of()).verdict())
                .isEqualTo("in fallocate(2) for 2.50 ms");
        Stalls.Window paused = new Stalls.Window(0, 5000, 60_000_000_000L, 60_010_000_000L, 5_000_000);
        List<Stalls.JvmEvent> jvm = List.of(new Stalls.JvmEvent("safepoint", 60_001_000_000L, 4_000_000, "safepoint"),
                new Stalls.JvmEvent("compile", 70_000_000_000L, 9_000_000, "C2 compiles Table.write"));
        Stalls.Attribution a = Stalls.attribute(paused, t.offCpu(100), t.syscalls(100), jvm);
        assertThat(a.verdict()).isEqualTo("safepoint for 4.00 ms");
        assertThat(a.jvm()).as("events outside the window are left out").hasSize(1);
        Stalls.Window lateInTheSleep = new Stalls.Window(0, 5000, 50_022_500_000L, 50_030_000_000L, 1_200_000);
        assertThat(Stalls.attribute(lateInTheSleep, t.offCpu(100), t.syscalls(100), List.of()).verdict())
                .as("only the part of an interval inside the window counts").startsWith("on its CPU");
        Stalls.Window onCpu = new Stalls.Window(0, 5000, 50_000_000_000L, 50_005_000_000L, 9_000_000);
        assertThat(Stalls.attribute(onCpu, t.offCpu(100), t.syscalls(100), List.of()).verdict())
                .as("4 ms off the CPU does not explain a 9 ms put").startsWith("on its CPU");
        Stalls.Window io = new Stalls.Window(0, 1, 0, 10, 2);
        assertThat(Stalls.attribute(io, List.of(new Stalls.OffCpu(1, 2, 'D', "kworker/0:1", List.of("io_schedule",
                "folio_wait_bit"))), List.of(), List.of()).verdict()).isEqualTo("waited for I/O for 0.00 ms (io_schedule < folio_wait_bit)");
        assertThat(Stalls.attribute(io, List.of(new Stalls.OffCpu(1, 2, 'S', "JFR Sampler Thr", List.of("sigsuspend.isra.0",
                "__x64_sys_rt_sigsuspend"))), List.of(), List.of()).verdict()).contains("suspended by a signal");
    }

    @Test
    void readsTheJvmEventsOfARecording(@TempDir Path dir) throws Exception {
        Path jfr = dir.resolve("gc.jfr");
        try (Recording r = new Recording()) {
            r.enable("jdk.GarbageCollection");
            r.enable("jdk.SafepointBegin");
            r.enable("jdk.SafepointEnd");
            r.start();
            System.gc();
            r.stop();
            r.dump(jfr);
        }
        List<Stalls.JvmEvent> events = Stalls.readJfr(jfr);
        assertThat(events).anySatisfy(e -> {
            assertThat(e.kind()).isEqualTo("gc");
            assertThat(e.what()).startsWith("GC ").contains("System.gc()");
        });
        Stalls.JvmEvent gc = events.stream().filter(e -> e.kind().equals("gc")).findFirst().orElseThrow();
        assertThat(events).as("the collection's safepoint, from its begin to its end, holds the collection")
                .anySatisfy(e -> {
                    assertThat(e.kind()).isEqualTo("safepoint");
                    assertThat(e.startNs()).isLessThanOrEqualTo(gc.startNs());
                    assertThat(e.startNs() + e.durationNs()).isGreaterThanOrEqualTo(gc.startNs() + gc.durationNs());
                });
    }

    @Test
    void attributesEveryInsertOfARunFromItsDirectory(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("stalls"));
        Files.createDirectories(dir.resolve("latency"));
        Files.writeString(dir.resolve("stalls/hashidx-insertFromEmptyLatency.trace"), TRACE, StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("latency/s.csv"), "entries,elapsed_ms,max_ns,p99_ns,p50_ns\n5000,5.000,4100000,1,1\n",
                StandardCharsets.UTF_8);
        JsonObject m = metrics();
        List<Stalls.Insert> inserts = Stalls.attributeAll(dir, List.of(m), 1_000_000);
        assertThat(inserts).hasSize(1);
        assertThat(Stalls.largest(inserts.get(0)).verdict()).startsWith("preempted: the JIT compiler");
        assertThat(Stalls.markdown(inserts, 1_000_000)).contains("## hashidx, fork 42, insert 3: max 4.10 ms")
                .contains("off CPU 4.00 ms, R, ran instead: C2 CompilerThre");
        assertThat(Stalls.attributeAll(dir.resolve("elsewhere"), List.of(m), 1_000_000)).as("no --stalls: nothing").isEmpty();
    }

    private static JsonObject metrics() {
        JsonObject m = new JsonObject();
        m.addProperty("kind", "put-latency");
        m.addProperty("peer", "hashidx");
        m.addProperty("pid", 42);
        m.addProperty("run", "hashidx-insertFromEmptyLatency");
        m.addProperty("iteration", 3);
        m.addProperty("series", "latency/s.csv");
        m.addProperty("max_ns", 4_100_000);
        m.addProperty("tid", 100);
        m.addProperty("start_mono_ns", 50_000_000_000L);
        m.addProperty("start_epoch_ns", 1_700_000_050_000_000_000L);
        return m;
    }
}
