namespace FastGate.Gateway.Security;

/// <summary>Keeps the key set of a <c>jwks_file</c> or <c>jwks_url</c> current: loads it, refreshes it on a
/// period and when a token names an unknown "kid" (at most once per <see cref="MinRefreshInterval"/>), and
/// keeps the last good set when a refresh fails. Readers see one immutable <see cref="JwtKeySet"/> reference.</summary>
internal sealed class JwksProvider : IJwtKeySource, IAsyncDisposable
{
    /// <summary>A JWKS of dozens of RSA keys is under 100 KiB; anything much larger is not a key set.</summary>
    private const int MaxDocumentBytes = 1024 * 1024;

    private readonly string? _path;
    private readonly Uri? _url;
    private readonly HttpClient? _http;
    private readonly TimeProvider _time;
    private readonly Action<string>? _log;
    private readonly CancellationTokenSource _stopping = new();
    private JwtKeySet _current = JwtKeySet.Empty;
    private long _lastAttemptTicks = long.MinValue;
    private DateTime _fileWriteTime;
    private byte[]? _document;
    private int _refreshing;
    private int _refreshes;
    private int _failures;
    private Task? _loop;

    private JwksProvider(string? path, Uri? url, HttpClient? http, TimeSpan refreshInterval, TimeSpan minRefreshInterval, TimeProvider? time, Action<string>? log)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(refreshInterval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(minRefreshInterval, TimeSpan.Zero);
        _path = path;
        _url = url;
        _http = http;
        RefreshInterval = refreshInterval;
        MinRefreshInterval = minRefreshInterval;
        _time = time ?? TimeProvider.System;
        _log = log;
    }

    /// <summary>How often the document is fetched again (a file is re-read only when its write time changed).</summary>
    public TimeSpan RefreshInterval { get; }

    /// <summary>The least time between two fetches, bounding what tokens with made-up "kid"s can cause.</summary>
    public TimeSpan MinRefreshInterval { get; }

    public JwtKeySet Current => Volatile.Read(ref _current);

    /// <summary>Key sets loaded, for metrics and tests.</summary>
    public int Refreshes => Volatile.Read(ref _refreshes);

    /// <summary>Fetches that failed (the previous set was kept).</summary>
    public int Failures => Volatile.Read(ref _failures);

    public static JwksProvider ForFile(string path, TimeSpan refreshInterval, TimeSpan minRefreshInterval, TimeProvider? time = null, Action<string>? log = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new JwksProvider(path, null, null, refreshInterval, minRefreshInterval, time, log);
    }

    /// <param name="http">owned by the caller; its Timeout bounds each fetch</param>
    public static JwksProvider ForUrl(Uri url, HttpClient http, TimeSpan refreshInterval, TimeSpan minRefreshInterval, TimeProvider? time = null, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(http);
        return new JwksProvider(null, url, http, refreshInterval, minRefreshInterval, time, log);
    }

    /// <summary>Loads the first set and starts the periodic refresh. False (with the reason logged) when the first
    /// load fails: the provider keeps trying on its period, and tokens meanwhile fail with UnknownKey.</summary>
    public async Task<bool> StartAsync(CancellationToken cancellationToken = default)
    {
        bool loaded = await RefreshAsync(cancellationToken).ConfigureAwait(false);
        _loop ??= RunPeriodicAsync();
        return loaded;
    }

    /// <summary>Fetches and swaps the set now, unless a fetch is already running. False when it failed (or was
    /// skipped); the last good set stays in place.</summary>
    public async Task<bool> RefreshAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _refreshing, 1) != 0)
        {
            return false;
        }

        try
        {
            Volatile.Write(ref _lastAttemptTicks, _time.GetTimestamp());
            byte[]? document = await FetchAsync(cancellationToken).ConfigureAwait(false);

            // An unchanged document keeps the same set: a new set would make the verified-token cache verify
            // every token again (its entries are bound to the set that verified them).
            if (document is null || (_document is not null && document.AsSpan().SequenceEqual(_document)))
            {
                return true;
            }

            if (!JwtKeySet.TryParseJwks(document, out JwtKeySet keys, out string? error))
            {
                Fail($"JWKS {Source}: {error}; keeping the previous key set");
                return false;
            }

            foreach (string skipped in keys.Skipped)
            {
                _log?.Invoke($"JWKS {Source}: skipped {skipped}");
            }

            _document = document;
            Volatile.Write(ref _current, keys);
            Interlocked.Increment(ref _refreshes);
            return true;
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException or UnauthorizedAccessException)
        {
            Fail($"JWKS {Source}: {e.Message}; keeping the previous key set");
            return false;
        }
        finally
        {
            Volatile.Write(ref _refreshing, 0);
        }
    }

    /// <summary>A token named an unknown "kid": start a background fetch unless one ran within
    /// <see cref="MinRefreshInterval"/>. Never blocks the request.</summary>
    public void RequestRefresh()
    {
        long last = Volatile.Read(ref _lastAttemptTicks);
        if ((last != long.MinValue && _time.GetElapsedTime(last) < MinRefreshInterval) || Volatile.Read(ref _refreshing) != 0)
        {
            return;
        }

        _ = Task.Run(() => RefreshAsync(_stopping.Token));
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    private string Source => _path ?? _url!.ToString();

    private void Fail(string message)
    {
        Interlocked.Increment(ref _failures);
        _log?.Invoke(message);
    }

    /// <summary>The document, or null when a file has not changed since the last load.</summary>
    private async Task<byte[]?> FetchAsync(CancellationToken cancellationToken)
    {
        if (_path is not null)
        {
            DateTime written = File.GetLastWriteTimeUtc(_path);
            if (!ReferenceEquals(Current, JwtKeySet.Empty) && written == _fileWriteTime)
            {
                return null;
            }

            byte[] bytes = await File.ReadAllBytesAsync(_path, cancellationToken).ConfigureAwait(false);
            _fileWriteTime = written;
            return bytes;
        }

        using HttpResponseMessage response = await _http!.GetAsync(_url, cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        if (response.Content.Headers.ContentLength > MaxDocumentBytes)
        {
            throw new HttpRequestException($"the document is larger than {MaxDocumentBytes} bytes");
        }

        return await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task RunPeriodicAsync()
    {
        using var timer = new PeriodicTimer(RefreshInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                await RefreshAsync(_stopping.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // Disposed.
        }
    }
}
