using System.Runtime.InteropServices;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;

[assembly: BenchmarkDotNet.Attributes.Config(typeof(FastGate.Benchmarks.ThreadCpuClockConfig))]

namespace FastGate.Benchmarks;

/// <summary>
/// With FASTGATE_BENCH_CPU_CLOCK=1 (and no --job on the command line): a ShortRun-like in-process job of 10
/// iterations timed by the benchmark thread's CPU time instead of the wall clock.
/// </summary>
/// <remarks>
/// The 2-core machine these suites run on is shared with builds and tests; wall-clock iterations then include
/// the time the benchmark thread waited for a core, and the same code measured 20-60% apart from run to run.
/// Thread CPU time leaves out that wait (not the cache pollution), so before/after comparisons hold to about
/// 10%. Linux only (CLOCK_THREAD_CPUTIME_ID).
/// </remarks>
internal sealed class ThreadCpuClockConfig : ManualConfig
{
    public ThreadCpuClockConfig()
    {
        if (Environment.GetEnvironmentVariable("FASTGATE_BENCH_CPU_CLOCK") == "1")
        {
            AddJob(Job.ShortRun
                .WithIterationCount(10)
                .WithClock(ThreadCpuClock.Instance)
                .WithToolchain(InProcessEmitToolchain.Instance)
                .WithId("ThreadCpu"));

            // On the shared VM a busy sibling core slows the benchmark thread without showing as waiting time,
            // so the mean drifts with the load; the minimum and median say what the code costs when it runs alone.
            AddColumn(StatisticColumn.Min, StatisticColumn.Median);
        }
    }
}

/// <summary>clock_gettime(CLOCK_THREAD_CPUTIME_ID), in nanoseconds.</summary>
internal sealed partial class ThreadCpuClock : IClock
{
    public static readonly ThreadCpuClock Instance = new();

    private const int ClockThreadCpuTimeId = 3;

    public string Title => "ThreadCpu";

    public bool IsAvailable => OperatingSystem.IsLinux();

    public Frequency Frequency => new(1_000_000_000);

    public long GetTimestamp()
    {
        if (ClockGetTime(ClockThreadCpuTimeId, out Timespec time) != 0)
        {
            throw new InvalidOperationException("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
        }

        return (time.Seconds * 1_000_000_000) + time.Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clockId, out Timespec time);

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
