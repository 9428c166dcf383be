pub struct GenerateSpec; pub struct Progress;
