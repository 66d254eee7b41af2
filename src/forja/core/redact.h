// Secrets in URIs: the one rule for every URI forja prints, logs or stores.
//
// A URI may carry a password in its userinfo (postgresql://user:PASSWORD@host/db,
// s3://KEY:SECRET@bucket) or in a parameter (?password=..., libpq's
// "host=h password=p"). RedactUri shows such a URI with every secret replaced by
// "***"; HasCredentials tells whether a URI carries any, so that versioned
// configuration can refuse it.
#pragma once

#include <string>

namespace forja {

// `uri` with every password, userinfo secret and secret-named parameter as "***".
// A URI without secrets comes back unchanged.
std::string RedactUri(const std::string& uri);

// `text` (an error message, a log line) with every secret that `uri` holds
// replaced by "***", wherever it appears, and `uri` itself shown redacted.
std::string RedactSecretsOf(const std::string& text, const std::string& uri);

// True when `uri` has userinfo (user:password@ or KEY:SECRET@) or a secret parameter.
bool HasCredentials(const std::string& uri);

// True when `text` is a libpq key=value connection string ("host=h dbname=d ...").
bool IsLibpqKeyValue(const std::string& text);

// A libpq key=value string as the equivalent postgresql:// URI (every keyword
// becomes a percent-encoded query parameter, which libpq accepts); an error names
// the malformed part without echoing any value.
bool LibpqKeyValueToUri(const std::string& text, std::string* uri, std::string* error);

}  // namespace forja
