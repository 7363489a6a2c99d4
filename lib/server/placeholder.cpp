namespace rsexec::server {}
