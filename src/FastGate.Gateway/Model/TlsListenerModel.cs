using System.Net;
using System.Net.Security;

namespace FastGate.Gateway.Model;

/// <summary>
/// One <c>[[server.tls]]</c> listener: Kestrel terminates TLS with this certificate and offers h2 and
/// http/1.1 by ALPN (RFC 7301). The certificate is loaded and checked when the model is compiled, so a
/// bad file fails <c>validate</c> and a reload, never a handshake.
/// </summary>
internal sealed class TlsListenerModel
{
    public required IPEndPoint Listen { get; init; }

    /// <summary>Absolute path of the certificate PEM file.</summary>
    public required string CertificatePath { get; init; }

    /// <summary>Absolute path of the private key PEM file.</summary>
    public required string KeyPath { get; init; }

    /// <summary>The leaf certificate with its key and the intermediates sent with it, built once.</summary>
    public required SslStreamCertificateContext Certificate { get; init; }
}
