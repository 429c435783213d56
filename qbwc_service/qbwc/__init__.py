"""The Web Connector side: SOAP service, protocol, sessions, outcomes, lost replies, .qwc."""
