#include "password_prompt.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <iterator>

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

namespace rsexec::cli {
namespace {

// The terminal's settings while echo is off, for the signal handler to put back: a signal that
// ends the process during the prompt must not leave the user's shell without echo. Plain
// globals because a signal handler can reach nothing else; set only while a prompt runs.
volatile sig_atomic_t echo_off_fd = -1;
struct termios saved_settings;

constexpr int ending_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

void restore_and_reraise(int signal) {
    if (echo_off_fd >= 0) ::tcsetattr(echo_off_fd, TCSAFLUSH, &saved_settings);
    // The default action now: the process ends by this signal, as it would have.
    ::signal(signal, SIG_DFL);
    ::raise(signal);
}

// Echo off on `fd` until destroyed, and put back if a signal ends the process meanwhile.
class EchoOff {
public:
    explicit EchoOff(int fd) : fd_(fd) {
        if (::tcgetattr(fd, &saved_settings) != 0) return;
        struct sigaction action {};
        action.sa_handler = restore_and_reraise;
        sigemptyset(&action.sa_mask);
        for (std::size_t i = 0; i < std::size(ending_signals); ++i) ::sigaction(ending_signals[i], &action, &previous_[i]);
        struct termios quiet = saved_settings;
        // ECHONL: the Enter that ends the password still moves the cursor to the next line.
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        quiet.c_lflag |= ECHONL;
        echo_off_fd = fd;
        if (::tcsetattr(fd, TCSAFLUSH, &quiet) == 0) active_ = true;
        else echo_off_fd = -1;
    }
    ~EchoOff() {
        if (active_) ::tcsetattr(fd_, TCSAFLUSH, &saved_settings);
        echo_off_fd = -1;
        for (std::size_t i = 0; i < std::size(ending_signals); ++i) ::sigaction(ending_signals[i], &previous_[i], nullptr);
    }
    EchoOff(const EchoOff&) = delete;
    EchoOff& operator=(const EchoOff&) = delete;
    bool active() const noexcept { return active_; }

private:
    int fd_;
    bool active_ = false;
    struct sigaction previous_[std::size(ending_signals)] {};
};

bool write_all(int fd, const std::string& text) {
    std::size_t done = 0;
    while (done < text.size()) {
        const auto n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

std::string who(const FtpUrl& url) { return *url.user + "@" + url.host; }

Error no_password(const FtpUrl& url, const std::string& why) {
    return Error(Errc::login_failed, "no password for " + who(url) + ": give it in the URL, in ~/.netrc, or run on a "
                                     "terminal" + (why.empty() ? std::string() : " (" + why + ")"));
}

// One line from the terminal, without echo; nullopt at end of input.
Expected<std::string> ask(const FtpUrl& url) {
    const int tty = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (tty < 0) return no_password(url, std::string("/dev/tty: ") + std::strerror(errno));
    std::string password;
    bool ended = false;
    {
        EchoOff quiet(tty);
        if (!quiet.active() || !write_all(tty, "Password for " + who(url) + ": ")) {
            ::close(tty);
            return no_password(url, "cannot turn echo off on the terminal");
        }
        // Bounded like every line rsexec reads: a password longer than this is not one.
        while (password.size() < 4096) {
            char c = 0;
            const auto n = ::read(tty, &c, 1);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                ended = true;
                break;
            }
            if (c == '\n' || c == '\r') break;
            password += c;
        }
    }
    ::close(tty);
    if (ended && password.empty()) return no_password(url, "the terminal gave none");
    return password;
}

} // namespace

Status PasswordPrompt::complete(FtpUrl& url) {
    if (!needs_password(url, netrc_)) return success();
    const auto key = *url.user + "@" + url.authority();
    if (auto known = asked_.find(key); known != asked_.end()) {
        url.password = known->second;
        return success();
    }
    if (!::isatty(STDIN_FILENO)) return no_password(url, "");
    auto password = ask(url);
    if (!password) return password.error();
    url.password = *password;
    asked_.emplace(key, std::move(*password));
    return success();
}

} // namespace rsexec::cli
