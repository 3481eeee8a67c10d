using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using FastGate.Gateway.Model;
using FastGate.Gateway.Pipeline;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace FastGate.Server;

/// <summary>
/// The TLS settings of one <c>[[server.tls]]</c> listener, read at each handshake from the active model,
/// so a reload with a renewed certificate takes effect for new connections without dropping any.
/// </summary>
internal sealed class TlsCertificateSource(GatewayRuntime runtime, TlsListenerModel initial)
{
    private readonly IPEndPoint _listen = initial.Listen;

    public ValueTask<SslServerAuthenticationOptions> OnConnection(TlsHandshakeCallbackContext context) =>
        ValueTask.FromResult(new SslServerAuthenticationOptions
        {
            ServerCertificateContext = Current().Certificate,
            ApplicationProtocols = GatewayConnectionHandler.AlpnProtocols,
            // RFC 9113 section 9.2: HTTP/2 over TLS needs TLS 1.2 or later; older versions are not offered at all.
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            ClientCertificateRequired = false,
            CipherSuitesPolicy = s_cipherSuites,
        });

    // RFC 9113 section 9.2.2: over TLS 1.2 HTTP/2 needs ephemeral key exchange and an AEAD cipher; rather
    // than answering INADEQUATE_SECURITY after the fact, only such suites are offered (and TLS 1.3's).
    // Elsewhere than Linux and macOS the platform's defaults apply (the policy is not supported there).
    private static readonly CipherSuitesPolicy? s_cipherSuites = OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()
        ? new CipherSuitesPolicy(
        [
            TlsCipherSuite.TLS_AES_128_GCM_SHA256,
            TlsCipherSuite.TLS_AES_256_GCM_SHA384,
            TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256,
            TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
            TlsCipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        ])
        : null;

    /// <summary>The active model's listener on this address; the one bound at start if a reload removed it.</summary>
    private TlsListenerModel Current()
    {
        foreach (var listener in runtime.Model.Server.Tls)
        {
            if (listener.Listen.Equals(_listen))
            {
                return listener;
            }
        }
        return initial;
    }
}
