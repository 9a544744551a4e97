// GatewaySim
