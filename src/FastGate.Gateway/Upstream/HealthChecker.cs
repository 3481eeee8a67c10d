using System.Net.Sockets;
using System.Text;
using FastGate.Gateway.Model;

namespace FastGate.Gateway.Upstream;

/// <summary>
/// Active health check of one upstream: a single loop that probes every endpoint each interval, on a fresh
/// socket per probe (never a pooled one: the probe must see what a new connection would see).
/// </summary>
internal sealed class HealthChecker : IAsyncDisposable
{
    // Enough for "HTTP/1.1 200 " and a reason phrase; anything longer without CRLF is not a status line.
    private const int StatusLineLimit = 256;

    private readonly HealthModel _health;
    private readonly EndpointState[] _endpoints;
    private readonly byte[][] _requests;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private HealthChecker(HealthModel health, IReadOnlyList<EndpointState> endpoints)
    {
        _health = health;
        _endpoints = [.. endpoints];
        _requests = new byte[_endpoints.Length][];
        for (var i = 0; i < _endpoints.Length; i++)
        {
            _endpoints[i].ResetProbeCounters();
            // Connection: close — the probe is one exchange; RFC 9112 section 9.6.
            _requests[i] = Encoding.ASCII.GetBytes(
                $"GET {health.Path} HTTP/1.1\r\nHost: {_endpoints[i].Model.Authority}\r\nConnection: close\r\n\r\n");
        }

        _loop = Task.Run(RunAsync);
    }

    public static HealthChecker Start(HealthModel health, IReadOnlyList<EndpointState> endpoints) => new(health, endpoints);

    /// <summary>Stops the loop without waiting for it (a reload; probes in flight end on their timeout).</summary>
    public void Stop() => _stop.Cancel();

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    /// <summary>"HTTP/1.x NNN": RFC 9112 section 4, status-line = HTTP-version SP status-code SP [reason-phrase].</summary>
    internal static bool TryParseStatusLine(ReadOnlySpan<byte> line, out int status)
    {
        status = 0;
        if (line.Length < 12 || !line.StartsWith("HTTP/1."u8) || !char.IsAsciiDigit((char)line[7]) || line[8] != (byte)' ')
        {
            return false;
        }

        for (var i = 9; i < 12; i++)
        {
            if (!char.IsAsciiDigit((char)line[i]))
            {
                return false;
            }

            status = (status * 10) + (line[i] - '0');
        }

        // The code is exactly three digits: anything but SP after it (a fourth digit) is malformed.
        return line.Length == 12 || line[12] == (byte)' ';
    }

    private async Task RunAsync()
    {
        var stop = _stop.Token;
        using var timer = new PeriodicTimer(_health.Interval);
        var probes = new Task[_endpoints.Length];
        try
        {
            do
            {
                for (var i = 0; i < _endpoints.Length; i++)
                {
                    probes[i] = ProbeAndReportAsync(i, stop);
                }

                await Task.WhenAll(probes).ConfigureAwait(false);
            }
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopped by a reload or shutdown.
        }
    }

    private async Task ProbeAndReportAsync(int index, CancellationToken stop)
    {
        var success = await ProbeAsync(_endpoints[index].Model, _requests[index], _health.Timeout, stop).ConfigureAwait(false);
        if (!stop.IsCancellationRequested)
        {
            _endpoints[index].ReportProbe(success, _health);
        }
    }

    private static async Task<bool> ProbeAsync(EndpointModel endpoint, byte[] request, TimeSpan timeout, CancellationToken stop)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stop);
        deadline.CancelAfter(timeout);
        using var socket = new Socket(endpoint.Address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var buffer = new byte[StatusLineLimit];
        try
        {
            await socket.ConnectAsync(endpoint.Address, deadline.Token).ConfigureAwait(false);
            await socket.SendAsync(request, SocketFlags.None, deadline.Token).ConfigureAwait(false);
            var filled = 0;
            while (filled < buffer.Length)
            {
                var read = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, deadline.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                filled += read;
                if (buffer.AsSpan(0, filled).IndexOf("\r\n"u8) >= 0)
                {
                    break;
                }
            }

            var head = buffer.AsSpan(0, filled);
            var end = head.IndexOf("\r\n"u8);
            return end >= 0 && TryParseStatusLine(head[..end], out var status) && status is >= 200 and < 400;
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or IOException)
        {
            return false;
        }
    }
}
