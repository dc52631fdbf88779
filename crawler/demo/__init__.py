"""The bundled demo forum (synthetic content, made-up codes) and the server that serves it locally."""
