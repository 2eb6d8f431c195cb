package io.hashidx.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The forks and iterations each run gets (Profile.shape), and the budget built on them. */
class PlanTest {
    private static List<Suite.Run> plan(Profile p) {
        return Suite.plan(p, EnumSet.allOf(Peer.class), EnumSet.allOf(Workload.class));
    }

    private static double total(Profile p) {
        List<Suite.Run> runs = plan(p);
        return runs.stream().mapToDouble(r -> Budget.seconds(p, r)).sum() + Budget.fixtureSeconds(p, runs);
    }

    @Test
    void fullProfileTrimsExactlyTheNonGoalLoadsOfTheSlowPeers() {
        Set<String> trimmed = plan(Profile.FULL).stream().filter(r -> r.shape().trimmed()).map(Suite.Run::id)
                .collect(Collectors.toSet());
        assertThat(trimmed).containsExactlyInAnyOrder(
                "lmdb-insertFromEmpty", "mapdb-insertFromEmpty", "rocksdb-insertFromEmpty",
                "lmdb-insertFromEmptyLatency", "mapdb-insertFromEmptyLatency", "rocksdb-insertFromEmptyLatency",
                "mapdb-bulkLoadPresized", "rocksdb-bulkLoadPresized");
        for (Suite.Run r : plan(Profile.FULL)) {
            Profile.Shape s = r.shape();
            if (s.trimmed()) {
                assertThat(Goals.carries(r.peer(), r.workload())).as(r.id()).isFalse();
                assertThat(s.forks()).as(r.id()).isEqualTo(1);
                assertThat(s.iterations()).as(r.id()).isEqualTo(1);
                // the put-latency insert keeps its one warm-up; a plain load has none
                assertThat(s.warmups()).as(r.id()).isEqualTo(r.workload() == Workload.INSERT_LATENCY ? 1 : 0);
            } else {
                assertThat(s.forks()).as(r.id()).isEqualTo(3);
            }
        }
    }

    @Test
    void everyGoalRunOfTheFullProfileHasThreeForksAndTheProfilesIterations() {
        Profile full = Profile.FULL;
        List<Suite.Run> goalRuns = plan(full).stream().filter(r -> Goals.carries(r.peer(), r.workload())).toList();
        assertThat(goalRuns).extracting(Suite.Run::id).contains("hashidx-getHit", "chroniclemap-getHit", "lmdb-getHit",
                "mapdb-getHit", "rocksdb-getHit", "fastutil-getHit", "hashidx-insertFromEmptyLatency",
                "hashidx-bulkLoadPresized", "lmdb-bulkLoadPresized", "chroniclemap-bulkLoadPresized", "hashidx-open",
                "hashidx-open-big");
        for (Suite.Run r : goalRuns) {
            Profile.Shape s = r.shape();
            assertThat(s.forks()).as(r.id()).isGreaterThanOrEqualTo(Goals.MIN_FORKS);
            assertThat(s.trimmed()).as(r.id()).isFalse();
            int iterations = switch (r.workload()) {
                case GET_HIT -> full.iterations();
                case BULK_LOAD -> full.loadIterations();
                case INSERT_LATENCY -> full.latencyIterations();
                case OPEN -> full.openIterations();
                default -> throw new AssertionError(r.id());
            };
            assertThat(s.iterations()).as(r.id()).isEqualTo(iterations);
        }
    }

    @Test
    void quickAndSmokeTrimNothing() {
        assertThat(plan(Profile.QUICK)).noneMatch(r -> r.shape().trimmed())
                .allMatch(r -> r.shape().forks() == 1);
        assertThat(plan(Profile.SMOKE)).noneMatch(r -> r.shape().trimmed());
        assertThat(plan(Profile.QUICK).stream().filter(r -> r.id().equals("mapdb-insertFromEmpty")).findFirst().orElseThrow()
                .shape().iterations()).isEqualTo(Profile.QUICK.loadIterations());
    }

    @Test
    void forksOptionChangesTheUntrimmedRunsOnly() {
        Profile five = Profile.FULL.withForks(5);
        for (Suite.Run r : plan(five)) {
            assertThat(r.shape().forks()).as(r.id()).isEqualTo(r.shape().trimmed() ? 1 : 5);
        }
    }

    @Test
    void budgetEstimatesWhatRuns() {
        Profile full = Profile.FULL;
        Suite.Run mapdbInsert = plan(full).stream().filter(r -> r.id().equals("mapdb-insertFromEmpty")).findFirst().orElseThrow();
        // one fork: start, then one measured load of 10M puts at 50k/s (+0.5 s)
        assertThat(Budget.seconds(full, mapdbInsert)).isCloseTo(Budget.FORK_SECONDS + 10_000_000 / 50_000.0 + 0.5,
                org.assertj.core.data.Offset.offset(1e-9));
        Suite.Run hashidxLatency = plan(full).stream().filter(r -> r.id().equals("hashidx-insertFromEmptyLatency")).findFirst()
                .orElseThrow();
        // three forks of two warm-ups and three measured loads at 400k/s
        assertThat(Budget.seconds(full, hashidxLatency)).isCloseTo(3 * (Budget.FORK_SECONDS + 5 * (25 + 0.5)),
                org.assertj.core.data.Offset.offset(1e-9));
    }

    @Test
    void fullProfileFitsItsBudgetAndQuickStaysUnderTwentyMinutes() {
        assertThat(total(Profile.FULL)).isLessThanOrEqualTo(Profile.FULL.budgetSeconds()).isLessThanOrEqualTo(150 * 60);
        assertThat(total(Profile.QUICK)).isLessThanOrEqualTo(Profile.QUICK.budgetSeconds());
        // what the full profile was before the per-run shape: every run 3 forks
        Profile untrimmed = new Profile("full", 10_000_000, 3, 3, 2, 5, 2, 1, 3, 3, 5, 20, 5, 40, 1, 1L << 30, 0, false);
        assertThat(total(untrimmed)).isGreaterThan(300 * 60);
    }
}
