"""The snippets of the seed document (seed-event-scenarios.md), as written there."""

from __future__ import annotations

# The "Scenario File Format" snippet shows payload (option 1) and generator (option 2)
# side by side as alternatives; each option is tested on its own.
FORMAT_OPTION_1 = """
name: Scenario Name
description: Optional description of what this scenario tests

events:
  - stream: stream.name      # Required: Stream name from STREAMS constant
    payload: { key: "{{key}}", n: 1 }  # Option 1: Explicit payload data
    delay: 1000             # Optional: Delay in ms before publishing
    repeat: 5               # Optional: Repeat this event N times
    interval: 500           # Optional: Interval between repeats
    variables:              # Optional: Variables for this event
      key: value
"""

FORMAT_OPTION_2 = FORMAT_OPTION_1.replace(
    '    payload: { key: "{{key}}", n: 1 }  # Option 1: Explicit payload data\n',
    "    generator: true          # Option 2: Use fixture generator\n",
)

EXPLICIT_PAYLOADS = """
events:
  - stream: order.request
    payload:
      orderId: "order_123"
      user: "alice"
      basketId: "basket_1"
      size: "10000"
      collateral: "2000"
      isLong: true
      leverage: 5
      timestamp: "{{timestamp}}"  # Variable substitution
"""

USING_GENERATORS = """
events:
  - stream: order.request
    generator: true  # Uses test-utils fixture builder
    repeat: 10      # Generate 10 random orders
    interval: 1000  # 1 second between each
"""

USING_VARIABLES = """
events:
  - stream: position.opened
    variables:
      basePrice: 50000
      user: "test_user"
    payload:
      positionId: "pos_{{index}}"  # {{index}} is auto-incremented for repeats
      user: "{{user}}"
      entryPrice: "{{basePrice}}"
"""

TIMING_CONTROL = """
events:
  - stream: price.update
    delay: 5000      # Wait 5 seconds before publishing
    payload: { basketId: basket_1, price: "50000", timestamp: "{{timestamp}}" }

  - stream: order.request
    delay: 1000      # Wait 1 second
    repeat: 5        # Publish 5 times
    interval: 500    # 500ms between each
    generator: true
"""

SNIPPETS = {
    "format-payload": FORMAT_OPTION_1,
    "explicit-payloads": EXPLICIT_PAYLOADS,
    "using-generators": USING_GENERATORS,
    "using-variables": USING_VARIABLES,
    "timing-control": TIMING_CONTROL,
}
