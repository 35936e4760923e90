import Foundation
import LVXCore
import LVXTestSupport
import Testing

@testable import LVXGit

extension GitTests {
    /// libgit2's initialisation no longer parses the system CA bundle; an HTTPS remote loads it.
    @Suite struct CertificateTests {
        @Test("initialising libgit2 defers the CA bundle, and an https remote loads it through the real parser")
        func caBundleIsDeferredUntilAnHTTPSRemote() throws {
            let directory = try TemporaryDirectory()
            let repo = try GitRepository.open(path: try makeDesiredStateRepository(in: directory))
            // Debian's libgit2 1.5 (mbedTLS) parses this file in git_libgit2_init; the shim kept it.
            #expect(LibGit2Runtime.deferredCertificateFile == "/etc/ssl/certs/ca-certificates.crt")
            // libgit2's fetch (the site's own fetch runs git when it is installed; a fleet mirror
            // falls back to libgit2 without it). It cannot succeed (.invalid never resolves), but
            // the bundle is loaded first: the real mbedtls_x509_crt_parse_file ran and succeeded,
            // or the remote's set-up would throw.
            let error = #expect(throws: GitError.self) {
                try repo.mirrorSiteBranches(from: "https://example.invalid/site.git")
            }
            #expect(error?.function == "git_remote_fetch", "\(String(describing: error))")
            #expect(LibGit2Runtime.deferredCertificateFile == nil)
        }
    }
}
