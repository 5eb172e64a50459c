"""The fault modes of the local model endpoint, shared by the endpoint and `keel models fault` (which must not import
the endpoint's server code to parse its arguments)."""

# "append": the model answers, then adds the rule's text: a model that obeyed an injection (tests the output checks).
FAULT_MODES = ("ok", "throttle", "error", "model_error", "stall", "down", "append")
