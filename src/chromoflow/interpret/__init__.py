"""From predictions to biology: in-silico perturbation, enhancer-gene links, attribution tracks."""
