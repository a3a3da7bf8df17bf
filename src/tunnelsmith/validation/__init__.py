"""The semantic checks behind `tunnelsmith.validate`, one module per concern.

`tunnelsmith.validate.validate` runs them in a fixed order; each check reads an `Inventory` and
adds problems to a `Report`. Import the public API from `tunnelsmith.validate`, not from here.
"""
