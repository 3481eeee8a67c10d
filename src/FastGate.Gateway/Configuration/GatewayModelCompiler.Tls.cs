using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FastGate.Gateway.Model;

namespace FastGate.Gateway.Configuration;

internal sealed partial class GatewayModelCompiler
{
    private List<TlsListenerModel> CompileTlsListeners(IReadOnlyList<TlsListenerConfig> listeners, List<IPEndPoint> cleartext)
    {
        var models = new List<TlsListenerModel>(listeners.Count);
        for (int i = 0; i < listeners.Count; i++)
        {
            var listener = listeners[i];
            var context = $"[[server.tls]] #{i + 1}";
            if (listener.Listen is null || listener.Certificate is null || listener.Key is null)
            {
                var missing = listener.Listen is null ? "listen" : listener.Certificate is null ? "certificate" : "key";
                errors.Add(listener.Position, $"missing '{missing}' in {context}: a TLS listener needs 'listen', 'certificate' and 'key'");
                continue;
            }

            var endpoint = ListenAddress(listener.Listen, "listen");
            if (endpoint is not null && (cleartext.Contains(endpoint) || models.Exists(m => m.Listen.Equals(endpoint))))
            {
                errors.Add(listener.Listen.Position, $"listen address '{listener.Listen.Value}' of {context} is already a listener");
                endpoint = null;
            }

            var certificatePath = ExistingFile(listener.Certificate, "certificate", context);
            var keyPath = ExistingFile(listener.Key, "key", context);
            if (endpoint is null || certificatePath is null || keyPath is null)
            {
                continue;
            }

            if (LoadCertificate(listener, certificatePath, keyPath, context) is { } certificate)
            {
                models.Add(new TlsListenerModel { Listen = endpoint, CertificatePath = certificatePath, KeyPath = keyPath, Certificate = certificate });
            }
        }
        return models;
    }

    /// <summary>
    /// Loads the leaf certificate with its key, and any further certificates of the file as the chain
    /// sent to clients (RFC 8446 section 4.4.2: the sender's certificate comes first).
    /// </summary>
    private SslStreamCertificateContext? LoadCertificate(TlsListenerConfig listener, string certificatePath, string keyPath, string context)
    {
        var chain = new X509Certificate2Collection();
        try
        {
            chain.ImportFromPemFile(certificatePath);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
        {
            errors.Add(listener.Certificate!.Position, $"'certificate' of {context}: '{listener.Certificate.Value}' is not a PEM certificate file ({ex.Message})");
            return null;
        }
        if (chain.Count == 0)
        {
            errors.Add(listener.Certificate!.Position, $"'certificate' of {context}: '{listener.Certificate.Value}' holds no '-----BEGIN CERTIFICATE-----' block");
            return null;
        }

        X509Certificate2 leaf;
        try
        {
            leaf = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        }
        catch (ArgumentException)
        {
            errors.Add(listener.Key!.Position, $"'key' of {context}: '{listener.Key.Value}' is not the private key of the certificate in '{listener.Certificate!.Value}'");
            return null;
        }
        catch (CryptographicException ex)
        {
            errors.Add(listener.Key!.Position, $"'key' of {context}: '{listener.Key.Value}' is not an unencrypted PEM private key ({ex.Message})");
            return null;
        }

        var intermediates = new X509Certificate2Collection();
        for (int i = 1; i < chain.Count; i++)
        {
            intermediates.Add(chain[i]);
        }
        // offline: the chain is what the file gives; the gateway never fetches issuers while loading.
        return SslStreamCertificateContext.Create(leaf, intermediates, offline: true);
    }
}
