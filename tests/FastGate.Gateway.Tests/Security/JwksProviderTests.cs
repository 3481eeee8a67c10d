using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using FastGate.Gateway.Security;
using static FastGate.Gateway.Tests.Security.JwtTestKeys;

namespace FastGate.Gateway.Tests.Security;

public sealed class JwksProviderTests : IDisposable
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);
    private static readonly RSA s_keyA = RSA.Create(2048);
    private static readonly RSA s_keyB = RSA.Create(2048);
    private static readonly RSA s_keyC = RSA.Create(2048);
    private readonly string _directory = Directory.CreateTempSubdirectory("fastgate-jwks-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static byte[] Token(string kid, RSA key) =>
        Encoding.ASCII.GetBytes(Sign(Header(JwtAlgorithms.RS256, kid: kid), Payload(), JwtAlgorithms.RS256, rsa: key));

    [Fact]
    public async Task File_is_loaded_reloaded_when_changed_and_kept_when_broken()
    {
        string path = Path.Combine(_directory, "jwks.json");
        await File.WriteAllTextAsync(path, Jwks(("a", s_keyA)));
        // Unknown-kid refreshes are throttled to one an hour here, so only this test's own refreshes run
        // (a background one racing them would make RefreshAsync report "already refreshing").
        await using var provider = JwksProvider.ForFile(path, Hour, Hour);
        var validator = new JwtValidator(Policy(), provider, cacheCapacity: 0);

        Assert.True(await provider.StartAsync());
        Assert.Equal(JwtValidationResult.Valid, validator.Validate(Token("a", s_keyA), Now, out _));
        Assert.Equal(JwtValidationResult.UnknownKey, validator.Validate(Token("b", s_keyB), Now, out _));

        await File.WriteAllTextAsync(path, Jwks(("b", s_keyB)));
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(1));
        Assert.True(await provider.RefreshAsync());
        Assert.Equal(JwtValidationResult.Valid, validator.Validate(Token("b", s_keyB), Now, out _));
        Assert.Equal(JwtValidationResult.UnknownKey, validator.Validate(Token("a", s_keyA), Now, out _));

        JwtKeySet good = provider.Current;
        await File.WriteAllTextAsync(path, "{\"keys\":");
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(2));
        Assert.False(await provider.RefreshAsync());
        Assert.Same(good, provider.Current);

        File.Delete(path);
        Assert.False(await provider.RefreshAsync());
        Assert.Same(good, provider.Current);
        Assert.Equal(2, provider.Failures);
        Assert.Equal(JwtValidationResult.Valid, validator.Validate(Token("b", s_keyB), Now, out _));
    }

    [Fact]
    public async Task Unchanged_file_is_not_parsed_again()
    {
        string path = Path.Combine(_directory, "jwks.json");
        await File.WriteAllTextAsync(path, Jwks(("a", s_keyA)));
        await using var provider = JwksProvider.ForFile(path, Hour, TimeSpan.Zero);
        await provider.StartAsync();
        JwtKeySet first = provider.Current;

        Assert.True(await provider.RefreshAsync());

        Assert.Same(first, provider.Current);
        Assert.Equal(1, provider.Refreshes);
    }

    [Fact]
    public async Task Url_refreshes_on_an_unknown_kid_at_most_once_per_interval_and_keeps_the_last_good_set()
    {
        using var server = new JwksServer(Jwks(("a", s_keyA)));
        var time = new ManualTimeProvider();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await using var provider = JwksProvider.ForUrl(server.Url, http, Hour, TimeSpan.FromSeconds(30), time);
        var validator = new JwtValidator(Policy(), provider);

        Assert.True(await provider.StartAsync());
        Assert.Equal(1, server.Requests);
        Assert.Equal(JwtValidationResult.Valid, validator.Validate(Token("a", s_keyA), Now, out _));

        // The issuer rotates to B: a token with kid B fetches once the throttle allows.
        server.Document = Jwks(("a", s_keyA), ("b", s_keyB));
        Assert.Equal(JwtValidationResult.UnknownKey, validator.Validate(Token("b", s_keyB), Now, out _));
        await Task.Delay(200);
        Assert.Equal(1, server.Requests);

        time.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(JwtValidationResult.UnknownKey, validator.Validate(Token("b", s_keyB), Now, out _));
        await WaitUntilAsync(() => provider.Refreshes == 2);
        Assert.Equal(2, server.Requests);
        Assert.Equal(JwtValidationResult.Valid, validator.Validate(Token("b", s_keyB), Now, out _));

        // Many tokens with made-up kids within the interval: no further fetch.
        for (int i = 0; i < 50; i++)
        {
            Assert.Equal(JwtValidationResult.UnknownKey, validator.Validate(Token($"fake-{i}", s_keyC), Now, out _));
        }

        await Task.Delay(200);
        Assert.Equal(2, server.Requests);

        // The server fails: the last good set stays.
        server.Status = HttpStatusCode.InternalServerError;
        time.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(JwtValidationResult.UnknownKey, validator.Validate(Token("c", s_keyC), Now, out _));
        await WaitUntilAsync(() => provider.Failures == 1);
        Assert.Equal(3, server.Requests);
        Assert.Equal(JwtValidationResult.Valid, validator.Validate(Token("b", s_keyB), Now, out _));

        // Not JSON: also kept.
        server.Status = HttpStatusCode.OK;
        server.Document = "<html>";
        Assert.False(await provider.RefreshAsync());
        Assert.Equal(JwtValidationResult.Valid, validator.Validate(Token("a", s_keyA), Now, out _));

        // Back to normal, with C.
        server.Document = Jwks(("c", s_keyC));
        Assert.True(await provider.RefreshAsync());
        Assert.Equal(JwtValidationResult.Valid, validator.Validate(Token("c", s_keyC), Now, out _));
        Assert.Equal(JwtValidationResult.UnknownKey, validator.Validate(Token("a", s_keyA), Now, out _));
    }

    [Fact]
    public async Task Url_that_fails_at_start_serves_no_keys_until_it_recovers()
    {
        using var server = new JwksServer(Jwks(("a", s_keyA))) { Status = HttpStatusCode.ServiceUnavailable };
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await using var provider = JwksProvider.ForUrl(server.Url, http, Hour, TimeSpan.Zero);
        var validator = new JwtValidator(Policy(), provider);

        Assert.False(await provider.StartAsync());
        Assert.Same(JwtKeySet.Empty, provider.Current);
        Assert.Equal(JwtValidationResult.UnknownKey, validator.Validate(Token("a", s_keyA), Now, out _));

        server.Status = HttpStatusCode.OK;
        // An unknown kid asks for a refresh, unless one is under way. The refresh the first unknown kid asked
        // for may still be in flight and reach the server before it recovered (a machine under load), and
        // then the next unknown kid asks again: keep presenting the token until a refresh brought the keys.
        await WaitUntilAsync(() =>
        {
            _ = validator.Validate(Token("a", s_keyA), Now, out _);
            return provider.Refreshes == 1;
        });
        Assert.Equal(JwtValidationResult.Valid, validator.Validate(Token("a", s_keyA), Now, out _));
    }

    [Fact]
    public async Task Url_is_fetched_again_on_its_period()
    {
        using var server = new JwksServer(Jwks(("a", s_keyA)));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await using var provider = JwksProvider.ForUrl(server.Url, http, TimeSpan.FromMilliseconds(100), TimeSpan.Zero);

        Assert.True(await provider.StartAsync());
        JwtKeySet first = provider.Current;
        await WaitUntilAsync(() => server.Requests >= 3);

        // The same document keeps the same set, so cached tokens stay cached.
        Assert.Same(first, provider.Current);
        Assert.Equal(1, provider.Refreshes);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (int i = 0; i < 100 && !condition(); i++)
        {
            await Task.Delay(50);
        }

        Assert.True(condition());
    }

    private sealed class ManualTimeProvider : TimeProvider
    {
        private long _ticks = 1_000_000;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }

    /// <summary>A JWKS endpoint on a loopback port, serving whatever the test sets.</summary>
    private sealed class JwksServer : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Task _loop;
        private int _requests;

        public JwksServer(string document)
        {
            Document = document;
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            int port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            Url = new Uri($"http://127.0.0.1:{port}/jwks.json");
            _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            _listener.Start();
            _loop = Task.Run(ServeAsync);
        }

        public Uri Url { get; }

        public volatile string Document;

        public HttpStatusCode Status { get; set; } = HttpStatusCode.OK;

        public int Requests => Volatile.Read(ref _requests);

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
            _ = _loop.ContinueWith(_ => { }, TaskScheduler.Default);
        }

        private async Task ServeAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }

                Interlocked.Increment(ref _requests);
                byte[] body = Encoding.UTF8.GetBytes(Document);
                context.Response.StatusCode = (int)Status;
                context.Response.ContentType = "application/json";
                context.Response.ContentLength64 = body.Length;
                await context.Response.OutputStream.WriteAsync(body);
                context.Response.Close();
            }
        }
    }
}
