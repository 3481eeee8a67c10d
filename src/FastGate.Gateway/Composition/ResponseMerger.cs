using System.Buffers;
using System.Buffers.Text;

namespace FastGate.Gateway.Composition;

/// <summary>How a merge ended.</summary>
internal readonly record struct MergeResult(MergeOutcome Outcome, int FailedPart, PartHead FailedHead);

internal enum MergeOutcome : byte
{
    /// <summary>The merged object went to the client in full.</summary>
    Completed,
    /// <summary>A required part failed before the head was written: nothing was sent; answer 502.</summary>
    RequiredPartFailed,
    /// <summary>The client left or stopped reading; the response is cut.</summary>
    ClientFailed,
}

/// <summary>One member of the merged object: its key, where its value comes from, and how it went.</summary>
internal sealed class MergePart(byte[] memberPrefix, byte[] keyJson, bool required, PartSource source)
{
    public byte[] MemberPrefix { get; } = memberPrefix;

    public byte[] KeyJson { get; } = keyJson;

    public bool Required { get; } = required;

    public PartSource Source { get; } = source;

    /// <summary>Why the value is null or cut short; None when it went out whole.</summary>
    public PartFailure Failure { get; internal set; }

    /// <summary>The answer's status, once its head was read.</summary>
    public int Status { get; internal set; }

    /// <summary>Part of the value had been sent when it failed; it was closed where it stopped.</summary>
    public bool Partial { get; internal set; }

    // The validation window, owned by the merger while it runs the part.
    internal byte[] Window = [];
    internal JsonStreamValidator Validator;
    /// <summary>Bytes in the window.</summary>
    internal int Filled;
    /// <summary>Bytes of the window validated, up to the end of the last complete token.</summary>
    internal int Scanned;
    /// <summary>The source reported the end of the body.</summary>
    internal bool Ended;
    /// <summary>Its window filled with a valid prefix: it streams once its turn comes.</summary>
    internal bool Streaming;
    /// <summary>Its exchange was ended and its window returned.</summary>
    internal bool Finished;
}

/// <summary>
/// The streaming N-to-1 merger: one JSON object <c>{"key1": &lt;part body&gt;, ...}</c> whose members are
/// written in the order the parts are ready, each part's body bytes copied through as they arrive (never
/// parsed into objects and written again) while <see cref="JsonStreamValidator"/> checks that it is one
/// well-formed JSON value. Parts that fail are null and listed in a last <c>"_errors"</c> member.
/// </summary>
/// <remarks>
/// <para>Invalid parts. A part's bytes go to the client only once validated, so the answer is valid JSON
/// whatever a part sends. Each part fills a window of <see cref="WindowSize"/> bytes (rented) while the
/// validator runs over it. A part whose whole body fits in the window (nearly every API answer) is
/// validated completely before a byte of it is sent: if it is not JSON, or fails, or misses the
/// deadline, its value is exactly <c>null</c>. A larger part is committed when its window is full: the
/// validated bytes (up to the last complete token) are sent and the window slides, so memory per part
/// stays one window, whatever the part's size. If such a part fails after it started to stream, what
/// was sent cannot be taken back; the validator knows which containers are open at the last complete
/// token, so the value is closed there (<c>[1,2</c> becomes <c>[1,2]</c>) and the part is listed in
/// <c>_errors</c> with <c>"partial":true</c>. The client always gets valid JSON, and always learns which
/// values are not what the upstream meant to send.</para>
/// <para>NOTE: buffering whole parts (Ocelot, KrakenD) makes memory grow with the parts; streaming
/// unvalidated bytes could emit invalid JSON. A single token longer than the window cannot be
/// validated in bounded memory: that part fails as <see cref="PartFailure.TokenTooLarge"/>.</para>
/// <para>Order and back-pressure. Parts fill concurrently; one loop writes them, one member at a time,
/// in the order they became ready. A part that is ready while another streams keeps its window and
/// stops reading, so its upstream connection stalls on its pipe's pause threshold: memory is the
/// windows plus the pipe buffers.</para>
/// <para>Deadline. <c>aggregate_timeout</c> bounds each part until it is ready (its whole value
/// validated, or its window full); a part streaming to the client is bounded by the idle timeout per
/// read instead, so a large part is not cut because the client reads slowly.</para>
/// </remarks>
internal sealed class ResponseMerger
{
    /// <summary>
    /// Validation window per part: below the upstream receive pipe's 64 KiB pause threshold (so a part
    /// filling its window never stalls its own reader), and larger than most whole API answers.
    /// </summary>
    public const int WindowSize = 32 * 1024;

    private readonly IStreamingBodySink _sink;
    private readonly TaskCompletionSource<int> _headGate = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Parts in the order they became ready; the merger's loop is the only writer and takes them from here.
    private MergePart[] _ready = [];
    private int _readyCount;
    private int _readyTaken;
    private TaskCompletionSource? _readyWaiter;

    private CancellationTokenSource _abort = null!;
    // The idle bound of a streaming part's reads; one per merge, reset after each read.
    private CancellationTokenSource? _streamIdle;
    private TimeSpan _idleTimeout;
    private int _requiredPending;
    private bool _anyWritten;
    private int _failedSignalled;
    private PartHead _failedHead;

    public ResponseMerger(IStreamingBodySink sink) => _sink = sink;

    /// <summary>Runs every part concurrently and writes the merged object to the sink.</summary>
    /// <param name="timeout">aggregate_timeout: bound of each part until its value is ready</param>
    /// <param name="idleTimeout">bound of each read while a part streams</param>
    /// <param name="aborted">the client connection ended</param>
    /// <remarks>
    /// NOTE: a first version had each part's task wait on an output semaphore and write its own member;
    /// every hand-over resumed a task on the thread pool, and a 5-part merge took ~90 µs in memory. Here
    /// parts only fill and queue themselves; one loop writes them in queue order, so parts that are
    /// ready together are written without a single thread hop.
    /// </remarks>
    public async Task<MergeResult> RunAsync(MergePart[] parts, TimeSpan timeout, TimeSpan idleTimeout, CancellationToken aborted)
    {
        _idleTimeout = idleTimeout;
        _ready = new MergePart[parts.Length];
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        _abort = abort;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(abort.Token);
        deadline.CancelAfter(timeout);
        foreach (var part in parts)
        {
            _requiredPending += part.Required ? 1 : 0;
        }

        if (_requiredPending == 0)
        {
            _headGate.TrySetResult(-1);
        }

        // Each fill queues its part when it ends, whatever happens (it never throws): the queue's count
        // tells when all have ended, so the fills' tasks are not kept (no task array, no WhenAll).
        for (int i = 0; i < parts.Length; i++)
        {
            _ = FillPartAsync(parts[i], i, deadline.Token);
        }

        try
        {
            int failed = await _headGate.Task.ConfigureAwait(false);
            if (failed >= 0)
            {
                await abort.CancelAsync().ConfigureAwait(false);
                return new MergeResult(MergeOutcome.RequiredPartFailed, failed, _failedHead);
            }

            _sink.StartResponse();
            _sink.Write("{"u8);
            await FlushUnlessMoreReadyAsync().ConfigureAwait(false);
            for (int written = 0; written < parts.Length && !abort.IsCancellationRequested; written++)
            {
                var part = await NextReadyAsync().ConfigureAwait(false);
                try
                {
                    await WriteMemberAsync(part).ConfigureAwait(false);
                }
                finally
                {
                    FinishPart(part);
                }
            }

            if (abort.IsCancellationRequested)
            {
                return new MergeResult(MergeOutcome.ClientFailed, -1, default);
            }

            WriteErrors(parts);
            return await _sink.CompleteAsync().ConfigureAwait(false)
                ? new MergeResult(MergeOutcome.Completed, -1, default)
                : new MergeResult(MergeOutcome.ClientFailed, -1, default);
        }
        finally
        {
            // Fills end soon after a cancellation (their reads take the deadline's token, linked to it).
            await AllFilledAsync().ConfigureAwait(false);
            foreach (var part in parts)
            {
                FinishPart(part);
            }

            _streamIdle?.Dispose();
        }
    }

    private void SignalHead(MergePart part, int index, bool ok)
    {
        if (!part.Required)
        {
            return;
        }

        if (!ok)
        {
            // Kept as it was when the part failed: the cancellation that follows must not hide why.
            if (Interlocked.Exchange(ref _failedSignalled, 1) == 0)
            {
                _failedHead = new PartHead(part.Status, part.Failure);
                _headGate.TrySetResult(index);
            }
        }
        else if (Interlocked.Decrement(ref _requiredPending) == 0)
        {
            _headGate.TrySetResult(-1);
        }
    }

    /// <summary>A part's exchange until its value is ready to write (or failed); then it joins the queue. Never throws.</summary>
    private async Task FillPartAsync(MergePart part, int index, CancellationToken deadline)
    {
        part.Window = ArrayPool<byte>.Shared.Rent(WindowSize);
        part.Validator = JsonStreamValidator.Create();
        try
        {
            var head = await StartAsync(part.Source, deadline).ConfigureAwait(false);
            part.Status = head.Status;
            bool ok = head.Failure == PartFailure.None && head.Status is >= 200 and <= 299;
            part.Failure = ok ? PartFailure.None : head.Failure == PartFailure.None ? PartFailure.Status : head.Failure;
            SignalHead(part, index, ok);

            // Read and validate until the value is whole, or the window is full, or it failed.
            part.Streaming = ok && await FillAsync(part, deadline).ConfigureAwait(false) == Fill.Streaming;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A source that throws is a failed exchange; the merged answer goes on without this part.
            if (part.Failure == PartFailure.None)
            {
                part.Failure = PartFailure.BadAnswer;
            }

            SignalHead(part, index, ok: false);
        }
        finally
        {
            Enqueue(part);
        }
    }

    private void Enqueue(MergePart part)
    {
        TaskCompletionSource? waiter;
        lock (_ready)
        {
            _ready[_readyCount++] = part;
            waiter = _readyWaiter;
            _readyWaiter = null;
        }

        waiter?.TrySetResult();
    }

    /// <summary>Every fill has ended (each queued its part).</summary>
    private async ValueTask AllFilledAsync()
    {
        while (true)
        {
            TaskCompletionSource waiter;
            lock (_ready)
            {
                if (_readyCount == _ready.Length)
                {
                    return;
                }

                waiter = _readyWaiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            await waiter.Task.ConfigureAwait(false);
        }
    }

    private async ValueTask<MergePart> NextReadyAsync()
    {
        while (true)
        {
            TaskCompletionSource waiter;
            lock (_ready)
            {
                if (_readyTaken < _readyCount)
                {
                    return _ready[_readyTaken++];
                }

                waiter = _readyWaiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            await waiter.Task.ConfigureAwait(false);
        }
    }

    private async ValueTask WriteMemberAsync(MergePart part)
    {
        WriteMemberPrefix(part);
        if (part.Failure != PartFailure.None)
        {
            _sink.Write("null"u8);
        }
        else
        {
            _sink.Write(part.Window.AsSpan(0, part.Scanned));
            if (part.Streaming)
            {
                // Larger than its window: it streams from here, and can no longer become null.
                Slide(part);
                await StreamAsync(part).ConfigureAwait(false);
            }
        }

        await FlushUnlessMoreReadyAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Sends what was written, unless another part is already waiting to be written: parts ready together
    /// go out in one flush (one send to the client, not one per member), and the client still gets every
    /// member as soon as the merger would otherwise wait.
    /// </summary>
    private ValueTask<bool> FlushUnlessMoreReadyAsync()
    {
        // Race window: a part queued just after this read is flushed with the next member (or by
        // CompleteAsync); missing it costs one flush, never a late byte, since the loop takes it at once.
        return Volatile.Read(ref _readyCount) > _readyTaken ? new(true) : FlushAsync();
    }

    /// <summary>Ends a part's exchange once: its connection is clean only when its answer was read to the end.</summary>
    private static void FinishPart(MergePart part)
    {
        if (part.Finished)
        {
            return;
        }

        part.Finished = true;
        part.Source.Finish(part.Ended && part.Failure is PartFailure.None or PartFailure.NotJson);
        ArrayPool<byte>.Shared.Return(part.Window);
        part.Window = [];
    }


    private async ValueTask<PartHead> StartAsync(PartSource source, CancellationToken cancellationToken)
    {
        try
        {
            return await source.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return new PartHead(0, _abort.IsCancellationRequested ? PartFailure.Cancelled : PartFailure.Timeout);
        }
    }

    private enum Fill : byte
    {
        /// <summary>The whole value is in the window and valid.</summary>
        Complete,
        /// <summary>The window is full of a valid prefix: the part streams.</summary>
        Streaming,
        /// <summary>The value is null; <see cref="MergePart.Failure"/> says why.</summary>
        Failed,
    }

    /// <remarks>
    /// A part's bytes have usually arrived by the time it is read (nearly always, for an answer that fits
    /// the window): the loop then runs without a state machine, and only a read that has to wait goes on
    /// in <see cref="FillPendingAsync"/>.
    /// </remarks>
    private ValueTask<Fill> FillAsync(MergePart part, CancellationToken cancellationToken)
    {
        Fill full;
        while (!IsWindowFull(part, out full))
        {
            var step = StepAsync(part, cancellationToken);
            if (!step.IsCompletedSuccessfully)
            {
                return FillPendingAsync(part, step, cancellationToken);
            }

            switch (step.Result)
            {
                case JsonValidation.Complete:
                    return new(Fill.Complete);
                case JsonValidation.Invalid:
                    return new(Fill.Failed);
            }
        }

        return new(full);
    }

    private async ValueTask<Fill> FillPendingAsync(MergePart part, ValueTask<JsonValidation> step, CancellationToken cancellationToken)
    {
        while (true)
        {
            switch (await step.ConfigureAwait(false))
            {
                case JsonValidation.Complete:
                    return Fill.Complete;
                case JsonValidation.Invalid:
                    return Fill.Failed;
            }

            if (IsWindowFull(part, out var full))
            {
                return full;
            }

            step = StepAsync(part, cancellationToken);
        }
    }

    /// <summary>A full window streams if it holds a valid prefix; one token filling it fails the part.</summary>
    private static bool IsWindowFull(MergePart part, out Fill fill)
    {
        fill = Fill.Streaming;
        if (part.Filled < part.Window.Length)
        {
            return false;
        }

        if (part.Scanned == 0)
        {
            part.Failure = PartFailure.TokenTooLarge;
            fill = Fill.Failed;
        }

        return true;
    }

    /// <summary>Copies validated bytes to the client as they arrive, until the value ends or fails.</summary>
    private async ValueTask StreamAsync(MergePart part)
    {
        // One source serves every streaming part of the merge; a cancelled one cannot be reset.
        if (_streamIdle is null || !_streamIdle.TryReset())
        {
            _streamIdle?.Dispose();
            _streamIdle = CancellationTokenSource.CreateLinkedTokenSource(_abort.Token);
        }

        var cancellation = _streamIdle;
        while (true)
        {
            if (part.Filled == part.Window.Length)
            {
                part.Failure = PartFailure.TokenTooLarge;
                break;
            }

            cancellation.CancelAfter(_idleTimeout);
            var validation = await StepAsync(part, cancellation.Token).ConfigureAwait(false);
            cancellation.TryReset();
            if (part.Scanned > 0)
            {
                _sink.Write(part.Window.AsSpan(0, part.Scanned));
                Slide(part);
            }

            if (validation == JsonValidation.Complete)
            {
                return;
            }

            if (validation == JsonValidation.Invalid)
            {
                break;
            }

            if (!await FlushAsync().ConfigureAwait(false))
            {
                part.Failure = PartFailure.Cancelled;
                return;
            }
        }

        // What was sent ends at a complete token: close the containers still open there.
        part.Partial = true;
        Span<byte> closing = stackalloc byte[JsonStreamValidator.MaxClosingLength];
        _sink.Write(closing[..part.Validator.WriteClosing(closing)]);
    }

    /// <summary>One read from the source into the window, and the validation of what it added.</summary>
    private ValueTask<JsonValidation> StepAsync(MergePart part, CancellationToken cancellationToken)
    {
        // A read the source answers at once (bytes already received) costs no state machine.
        ValueTask<PartRead> pending;
        try
        {
            pending = part.Source.ReadAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return new(ReadCancelled(part));
        }

        return pending.IsCompletedSuccessfully ? new(Take(part, pending.Result)) : StepPendingAsync(part, pending);
    }

    private async ValueTask<JsonValidation> StepPendingAsync(MergePart part, ValueTask<PartRead> pending)
    {
        PartRead read;
        try
        {
            read = await pending.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return ReadCancelled(part);
        }

        return Take(part, read);
    }

    private JsonValidation ReadCancelled(MergePart part)
    {
        part.Failure = _abort.IsCancellationRequested ? PartFailure.Cancelled : PartFailure.Timeout;
        return JsonValidation.Invalid;
    }

    /// <summary>Copies what a read brought into the window and validates it.</summary>
    private static JsonValidation Take(MergePart part, in PartRead read)
    {
        bool final = false;
        switch (read.Status)
        {
            case PartReadStatus.Failed:
                part.Failure = read.Failure == PartFailure.None ? PartFailure.BadAnswer : read.Failure;
                return JsonValidation.Invalid;
            case PartReadStatus.End:
                part.Ended = final = true;
                break;
            default:
                int n = (int)Math.Min(read.Data.Length, part.Window.Length - part.Filled);
                if (read.Data.IsSingleSegment)
                {
                    read.Data.FirstSpan[..n].CopyTo(part.Window.AsSpan(part.Filled));
                }
                else
                {
                    read.Data.Slice(0, n).CopyTo(part.Window.AsSpan(part.Filled));
                }

                part.Filled += n;
                part.Source.Consume(n);
                break;
        }

        var validation = part.Validator.Validate(part.Window.AsSpan(part.Scanned, part.Filled - part.Scanned), final, out int consumed);
        part.Scanned += consumed;
        if (validation == JsonValidation.Invalid)
        {
            part.Failure = PartFailure.NotJson;
        }

        return validation;
    }

    /// <summary>Moves the bytes of an unfinished token to the start of the window.</summary>
    private static void Slide(MergePart part)
    {
        part.Window.AsSpan(part.Scanned, part.Filled - part.Scanned).CopyTo(part.Window);
        part.Filled -= part.Scanned;
        part.Scanned = 0;
    }

    private void WriteMemberPrefix(MergePart part)
    {
        if (_anyWritten)
        {
            _sink.Write(","u8);
        }

        _anyWritten = true;
        _sink.Write(part.MemberPrefix);
    }

    private async ValueTask<bool> FlushAsync()
    {
        if (await _sink.FlushAsync().ConfigureAwait(false))
        {
            return true;
        }

        await _abort.CancelAsync().ConfigureAwait(false);
        return false;
    }

    /// <summary><c>,"_errors":[{"key":"orders","status":500},{"key":"user","reason":"timeout"}]}</c>, or <c>}</c>.</summary>
    private void WriteErrors(MergePart[] parts)
    {
        bool any = false;
        Span<byte> number = stackalloc byte[11];
        foreach (var part in parts)
        {
            if (part.Failure == PartFailure.None)
            {
                continue;
            }

            _sink.Write(any ? ",{\"key\":"u8 : _anyWritten ? ",\"_errors\":[{\"key\":"u8 : "\"_errors\":[{\"key\":"u8);
            any = true;
            _sink.Write(part.KeyJson);
            if (part.Status > 0)
            {
                _sink.Write(",\"status\":"u8);
                Utf8Formatter.TryFormat(part.Status, number, out int written);
                _sink.Write(number[..written]);
            }

            if (part.Failure != PartFailure.Status)
            {
                _sink.Write(",\"reason\":\""u8);
                _sink.Write(ReasonOf(part.Failure));
                _sink.Write("\""u8);
            }

            if (part.Partial)
            {
                _sink.Write(",\"partial\":true"u8);
            }

            _sink.Write("}"u8);
        }

        _sink.Write(any ? "]}"u8 : "}"u8);
    }

    /// <summary>The reason a part failed, as written in <c>_errors</c> (and in the 502 of a required part).</summary>
    public static ReadOnlySpan<byte> ReasonOf(PartFailure failure) => failure switch
    {
        PartFailure.Status => "status"u8,
        PartFailure.NotJson => "not-json"u8,
        PartFailure.TokenTooLarge => "token-too-large"u8,
        PartFailure.Timeout => "timeout"u8,
        PartFailure.Unreachable => "unreachable"u8,
        PartFailure.Unavailable => "unavailable"u8,
        PartFailure.BadAnswer => "bad-answer"u8,
        _ => "cancelled"u8,
    };
}
